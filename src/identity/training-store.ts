/** What `sharedcare identity train` reads and, once put in force, writes. */
import type { Queryable } from '../db/index.ts';
import type { MatchFeatures } from './features.ts';

/** Every linked source record's features (or a sample of `limit`), for training. */
export async function trainingRecords(q: Queryable, limit = 500_000): Promise<MatchFeatures[]> {
  const { rows } = await q.query<{ features: string }>(
    'SELECT features FROM person_link WHERE features IS NOT NULL ORDER BY md5(source_id || local_id) LIMIT $1',
    [limit],
  );
  return rows.map((r) => JSON.parse(r.features) as MatchFeatures);
}

/** Replaces the name counts the linker weighs agreement by. */
export async function saveTermFrequencies(
  tx: Queryable,
  rows: { field: string; value: string; share: number }[],
): Promise<void> {
  await tx.query('DELETE FROM identity_term_frequency');
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO identity_term_frequency (field, value, share)
     SELECT * FROM unnest($1::text[], $2::text[], $3::float8[])`,
    [rows.map((r) => r.field), rows.map((r) => r.value), rows.map((r) => r.share)],
  );
}
