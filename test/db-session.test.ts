/**
 * The settings of Sharedcare's own PostgreSQL sessions. JIT is off: a statement whose estimate is
 * far above its work (an array parameter's overlap is estimated at 0.5 % of the table) would
 * otherwise spend 10–20 ms compiling itself (src/db/postgres.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';

describe.skipIf(!DB_KINDS.includes('postgres'))('PostgreSQL sessions', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase('postgres');
  }, 120_000);
  afterAll(async () => t?.drop());

  it('never compile a statement, even one estimated as costly', async () => {
    const plan = await t.db.transaction(async (tx) => {
      await tx.query('SET LOCAL jit_above_cost = 0');
      const { rows } = await tx.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM person_link WHERE block_keys && $1::text[]`,
        [['df:1951-09-23:ACRAD']],
      );
      return JSON.stringify(rows[0]!['QUERY PLAN']);
    });
    expect(plan).toContain('"Plan"');
    expect(plan).not.toContain('JIT');
  });
});
