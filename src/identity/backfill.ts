/**
 * Computes the match keys (features and blocking keys) of source records that lack them or carry
 * an older version: records linked before the master patient index existed (migration 019) would
 * otherwise be invisible to probabilistic matching, since candidates are found by those keys. It
 * reads the demographics stored with each link, so no source has to send anything again.
 * Idempotent: a record already at MATCH_KEYS_VERSION is not touched, and a second run finds none.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Database } from '../db/index.ts';
import { blockingKeys, featuresOf, MATCH_KEYS_VERSION } from './features.ts';

export interface BackfillReport {
  /** source records whose match keys were computed */
  records: number;
}

/** Recomputes stale match keys in batches, each batch its own transaction. */
export async function backfillMatchKeys(db: Database, batchSize = 2000): Promise<BackfillReport> {
  let records = 0;
  // keyset pagination: each batch starts after the last, so a store is walked once, not once per batch
  let after = ['', ''];
  for (;;) {
    const done = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ source_id: string; local_id: string; demographics: string }>(
        `SELECT source_id, local_id, demographics FROM person_link
          WHERE (keys_version IS NULL OR keys_version < $1) AND (source_id, local_id) > ($3, $4)
          ORDER BY source_id, local_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [MATCH_KEYS_VERSION, batchSize, after[0], after[1]],
      );
      if (rows.length === 0) return 0;
      const last = rows.at(-1)!;
      after = [last.source_id, last.local_id];
      const feats = rows.map((r) => featuresOf(JSON.parse(r.demographics) as Patient));
      const keys = feats.map(blockingKeys);
      await tx.query(
        `UPDATE person_link l SET features = t.f, block_dob = t.bd,
                block_keys = ARRAY(SELECT json_array_elements_text(t.bk::json)), keys_version = $1
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(s, l, f, bd, bk)
          WHERE l.source_id = t.s AND l.local_id = t.l`,
        [
          MATCH_KEYS_VERSION,
          rows.map((r) => r.source_id),
          rows.map((r) => r.local_id),
          feats.map((f) => JSON.stringify(f)),
          keys.map((k) => k.dob),
          keys.map((k) => JSON.stringify(k.block)),
        ],
      );
      return rows.length;
    });
    records += done;
    if (done < batchSize) return { records };
  }
}
