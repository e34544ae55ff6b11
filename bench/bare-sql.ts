/**
 * The floor under a record open: the same SELECT the store runs for $everything (a person's
 * visible, non-sensitive items, newest first), timed in a loop, one query at a time, straight on
 * the driver: pg for PostgreSQL, the PGlite handle for PGlite. No transaction, access, policy,
 * audit, Bundle or HTTP.
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
    return await loop(iterations, maxMs, async () => (await client.query(ITEMS_SQL, [personId])).rows.length);
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
