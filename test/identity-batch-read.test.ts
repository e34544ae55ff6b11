/**
 * A batch of records linked together (a load's chunk of Patients) reads its candidates through the
 * blocking keys' GIN index, however many keys the batch has. With the keys' values in view the
 * planner judged that 5,000 keys overlap most of the table and scanned it all, comparing every
 * row's keys with every one of the batch's: at 1,000,000 persons 309 s a batch (0.27 s through the
 * index), and a region's bulk load slowed from 4,300 records/s to under 200. The plan depends on the
 * table's statistics, so this is checked on both databases, with 20,000 records whose keys are each
 * almost unique, as real blocking keys are (a block holds a handful of records): ANALYZE then finds
 * no common keys, and an array of 5,000 seen by the planner is taken to overlap every row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../src/db/index.ts';
import { readForDecisions } from '../src/identity/decision-reads.ts';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';

const RECORDS = 20_000;

describe.each(DB_KINDS)('a batch’s candidate read on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase(kind);
    await t.db.exec(`
      INSERT INTO person (id, nhs_number, verified)
        SELECT md5('p' || i)::uuid, NULL, false FROM generate_series(1, ${RECORDS}) i;
      INSERT INTO person_link (source_id, local_id, person_id, link_reason, content_hash, demographics,
                               updated_at, features, block_keys)
        SELECT 'ooh', 'r' || i, md5('p' || i)::uuid, 'new', 'h', '{}', now(), '{}',
               ARRAY['df:' || i, 'dg:' || i, 'dp:' || i, 'pg:' || i, 'fg:' || i]
          FROM generate_series(1, ${RECORDS}) i;
      ANALYZE person; ANALYZE person_link;`);
  }, 120_000);
  afterAll(async () => t?.drop());

  it('goes through the blocking keys’ index for a batch of 500 records’ keys', async () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `${['df', 'dg', 'dp', 'pg', 'fg'][i % 5]}:${i}`);
    // the read's own statement, explained with the batch's values (a custom plan, as PostgreSQL
    // makes for a prepared statement's first executions)
    const plans: unknown[] = [];
    const explaining: Queryable = {
      async query<R>(sql: string, params?: unknown[]) {
        const { rows } = await t.db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
        plans.push(rows[0]!['QUERY PLAN']);
        throw Object.assign(new Error('explained'), { rows: [] as R[] });
      },
    };
    await readForDecisions(explaining, {
      sourceId: 'gp',
      localIds: Array.from({ length: 500 }, (_, i) => `n${i}`),
      anyPerson: { probes: keys.slice(0, 2500) },
      unnumbered: { probes: keys.slice(2500) },
      trustedNhs: [],
      noValidNhs: true,
      names: [],
    }).catch((err: unknown) => {
      if ((err as Error).message !== 'explained') throw err;
    });
    expect(plans).toHaveLength(1);
    expect(scansOf(plans[0], 'person_link')).not.toContain('Seq Scan');
  });
});

/** The scans of this table in an EXPLAIN (FORMAT JSON) plan, by node type. */
function scansOf(plan: unknown, table: string): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n['Relation Name'] === table) out.push(String(n['Node Type']));
    for (const v of Object.values(n)) walk(v);
  };
  walk(plan);
  return out;
}
