/**
 * The floor under a record open: the same SELECT the store runs for $everything (a person's
 * visible, non-sensitive items, newest first), timed in a loop, one query at a time, straight on
 * the driver: pg for PostgreSQL, the PGlite handle for PGlite. No transaction, access, policy,
 * audit, Bundle or HTTP.
 *
 * On PostgreSQL it runs as a named prepared statement, as Sharedcare's own pool runs it
 * (src/db/postgres.ts), so that the floor is the plan the server settles on, not a planner's
 * accident: sent unprepared, each execution is planned for its parameter, and PostgreSQL, which
 * has no statistics for `cardinality(sensitivity) = 0` and assumes 0.5 %, chose for the heavy
 * Synthea person (3,118 rows) a bitmap scan and a sort that spilled 4 MB to disk: 19.9 ms in the
 * server against 2.3 ms for the ordered index scan of the generic plan (EXPLAIN ANALYZE,
 * 2026-12-07). The floor then measured 8.7 ms in one run and 21–25 ms in the next.
 */
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { summarise, type LatencySummary } from './stats.ts';

export const ITEMS_SQL = `SELECT id, resource_type, body FROM clinical_item
  WHERE person_id = $1 AND NOT deleted AND cardinality(sensitivity) = 0
  ORDER BY effective DESC NULLS LAST, id`;

export interface SqlRun {
  rows: number;
  latency: LatencySummary;
}

async function loop(iterations: number, maxMs: number, fetch: () => Promise<number>): Promise<SqlRun> {
  let rows = 0;
  for (let i = 0; i < Math.min(20, iterations); i++) rows = await fetch();
  const times: number[] = [];
  const until = performance.now() + maxMs;
  for (let i = 0; i < iterations && performance.now() < until; i++) {
    const t = performance.now();
    rows = await fetch();
    times.push(performance.now() - t);
  }
  return { rows, latency: summarise(times) };
}

export async function bareSqlPostgres(
  url: string,
  personId: string,
  iterations: number,
  maxMs: number,
): Promise<SqlRun> {
  // the session settings Sharedcare's own pool uses (src/db/postgres.ts: no JIT), so that the two
  // differ by the work, not by the settings
  const client = new pg.Client({ connectionString: url, options: '-c jit=off' });
  await client.connect();
  try {
    const query = { name: 'bench_bare_items', text: ITEMS_SQL, values: [personId] };
    return await loop(iterations, maxMs, async () => (await client.query(query)).rows.length);
  } finally {
    await client.end();
  }
}

export function bareSqlPglite(
  pglite: PGlite,
  personId: string,
  iterations: number,
  maxMs: number,
): Promise<SqlRun> {
  return loop(iterations, maxMs, async () => (await pglite.query(ITEMS_SQL, [personId])).rows.length);
}
