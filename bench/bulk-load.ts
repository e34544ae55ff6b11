/**
 * Grows the PostgreSQL region from the ingested persons to `large` persons straight in SQL, to
 * see whether record open stays flat as the region grows without ingesting 30 million resources.
 * Each extra person is a copy of a person already there: a new person row and copies of every
 * person-keyed row (clinical_item, person_link, relationship facts, … — any table with a person_id
 * column except the audit trail, objections, break-glass grants and item history), with uuids
 * re-derived (md5 of the old id and a "#<large>.<c>" suffix) and local ids / NHS number suffixed.
 * Copy c of person n (in id order) exists while c × persons + n < large. Bodies: 'full' keeps each
 * copied body, 'short' stores a stub ({"resourceType","id"}) to spare disk and time, 'auto' is
 * full unless clinical_item would pass 20 GiB. clinical_item's indexes and constraints are dropped
 * for the load and rebuilt after it (as a bulk load would), then VACUUM ANALYZE and CHECKPOINT.
 */
import pg from 'pg';
import { note, since } from './stats.ts';

export type GrowBody = 'full' | 'short' | 'auto';

const AUTO_LIMIT = 20 * 2 ** 30;
const NOT_COPIED = ['audit_event', 'objection', 'break_glass', 'clinical_item_version'];
/** Columns that must stay unique or consistent per copy, by table. */
const SUFFIXED: Record<string, string[]> = {
  person: ['nhs_number'],
  person_link: ['local_id'],
  clinical_item: ['source_local_id', 'source_patient_id'],
};

export interface GrowRun {
  persons: number;
  body: 'full' | 'short';
  itemRows: number;
  tableBytes: number;
  /** persons, person links, relationship facts and other person-keyed rows */
  sideMs: number;
  insertMs: number;
  indexMs: number;
  vacuumMs: number;
  ms: number;
}

type Q = <T extends pg.QueryResultRow = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
) => Promise<T[]>;

/** SELECT list copying `table` (alias t) for the person map row m. */
async function copyList(
  q: Q,
  table: string,
  body: string | undefined,
): Promise<{ cols: string; exprs: string }> {
  const columns = await q<{ name: string; type: string }>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  const ident = (n: string): string => `"${n.replace(/"/g, '""')}"`;
  const exprs = columns.map(({ name, type }) => {
    const col = `t.${ident(name)}`;
    if (name === 'person_id') return 'm.dst';
    if (table === 'person' && name === 'id') return 'm.dst';
    if (type === 'uuid') return `md5(${col}::text || m.sfx)::uuid`;
    if (SUFFIXED[table]?.includes(name)) return `${col} || m.sfx`;
    if (name === 'body' && body) return body;
    return col;
  });
  return { cols: columns.map((c) => ident(c.name)).join(', '), exprs: exprs.join(', ') };
}

/** Drops clinical_item's constraints and indexes; returns the statements that rebuild them. */
async function dropItemIndexes(q: Q): Promise<string[]> {
  const constraints = await q<{ name: string; def: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
     WHERE conrelid = 'clinical_item'::regclass AND contype IN ('p', 'u')`,
  );
  for (const c of constraints) await q(`ALTER TABLE clinical_item DROP CONSTRAINT ${c.name}`);
  const indexes = await q<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename = 'clinical_item' AND schemaname = current_schema()`,
  );
  for (const i of indexes) await q(`DROP INDEX ${i.name}`);
  return [
    ...constraints.map((c) => `ALTER TABLE clinical_item ADD CONSTRAINT ${c.name} ${c.def}`),
    ...indexes.map((i) => i.def),
  ];
}

/** Grows to `large` persons; `rowsBefore` is the clinical_item row count now (counting 30M rows is slow). */
export async function growRegion(
  url: string,
  large: number,
  growBody: GrowBody,
  rowsBefore: number,
): Promise<GrowRun> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const q: Q = async (sql, params) => (await client.query(sql, params)).rows;
  const started = performance.now();
  try {
    await q(`SET maintenance_work_mem = '1GB'`);
    const now = await q<{ n: string; bytes: string }>(
      `SELECT (SELECT count(*) FROM person) AS n, pg_total_relation_size('clinical_item') AS bytes`,
    );
    const persons = Number(now[0]?.n ?? 0);
    const copies = Math.ceil(large / persons) - 1;
    const projected = (Number(now[0]?.bytes ?? 0) * large) / persons;
    const body = growBody === 'auto' ? (projected > AUTO_LIMIT ? 'short' : 'full') : growBody;
    await q('DROP TABLE IF EXISTS bench_person_map');
    await q(
      `CREATE UNLOGGED TABLE bench_person_map AS
       SELECT p.id AS src, md5(p.id::text || '#' || $3::bigint || '.' || c)::uuid AS dst, c,
         '#' || $3::bigint || '.' || c AS sfx
       FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM person) p
       CROSS JOIN generate_series(1, $1::int) AS c
       WHERE c::bigint * $2::bigint + p.n < $3::bigint`,
      [copies, persons, large],
    );
    await q('CREATE INDEX ON bench_person_map (src)');

    const sideStarted = performance.now();
    const person = await copyList(q, 'person', undefined);
    await q(
      `INSERT INTO person (${person.cols}) SELECT ${person.exprs} FROM bench_person_map m JOIN person t ON t.id = m.src`,
    );
    const sideTables = await q<{ table: string }>(
      `SELECT table_name AS table FROM information_schema.columns
       WHERE table_schema = current_schema() AND column_name = 'person_id'
         AND table_name NOT IN ('clinical_item', 'bench_person_map', ${NOT_COPIED.map((t) => `'${t}'`).join(', ')})`,
    );
    for (const { table } of sideTables) {
      const list = await copyList(q, table, undefined);
      await q(
        `INSERT INTO ${table} (${list.cols}) SELECT ${list.exprs} FROM bench_person_map m JOIN ${table} t ON t.person_id = m.src`,
      );
    }

    const sideMs = since(sideStarted);
    const rebuild = await dropItemIndexes(q);
    const stub = `'{"resourceType":"' || t.resource_type || '","id":"' || md5(t.id::text || m.sfx)::uuid || '"}'`;
    const items = await copyList(q, 'clinical_item', body === 'full' ? undefined : stub);
    const insertStarted = performance.now();
    let rows = rowsBefore;
    for (let c = 1; c <= copies; c++) {
      const t = performance.now();
      const r = await client.query(
        `INSERT INTO clinical_item (${items.cols}) SELECT ${items.exprs}
         FROM clinical_item t JOIN bench_person_map m ON m.src = t.person_id AND m.c = $1`,
        [c],
      );
      rows += r.rowCount ?? 0;
      note(`  copy ${c}/${copies}: ${r.rowCount} rows in ${(since(t) / 1000).toFixed(0)} s`);
    }
    const insertMs = since(insertStarted);

    const indexStarted = performance.now();
    for (const sql of rebuild) await q(sql);
    const indexMs = since(indexStarted);
    note(`  indexes rebuilt in ${(indexMs / 1000).toFixed(0)} s`);

    await q('DROP TABLE bench_person_map');
    const vacuumStarted = performance.now();
    await q('VACUUM ANALYZE');
    await q('CHECKPOINT');
    const vacuumMs = since(vacuumStarted);

    const size = await q<{ persons: string; bytes: string }>(
      `SELECT (SELECT count(*) FROM person) AS persons, pg_total_relation_size('clinical_item') AS bytes`,
    );
    return {
      persons: Number(size[0]?.persons ?? 0),
      body,
      itemRows: rows,
      tableBytes: Number(size[0]?.bytes ?? 0),
      sideMs,
      insertMs,
      indexMs,
      vacuumMs,
      ms: since(started),
    };
  } finally {
    await client.end();
  }
}
