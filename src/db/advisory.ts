/**
 * Transaction-level advisory locks on text keys, released at commit or rollback. The keys are
 * hashed (one namespace per caller, so two callers' keys never collide) and taken in ascending
 * order in one statement, so that two transactions sharing several keys cannot deadlock.
 */
import type { Queryable } from './types.ts';

export async function lockKeysForTransaction(q: Queryable, namespace: number, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await q.query(
    `SELECT count(pg_advisory_xact_lock(h)) FROM
       (SELECT DISTINCT hashtextextended(k, $2) AS h FROM unnest($1::text[]) AS k ORDER BY 1) AS s`,
    [keys, namespace],
  );
}
