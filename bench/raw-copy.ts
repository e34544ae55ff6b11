/**
 * The yardstick for ingest: a raw COPY of the same clinical_item rows (same columns and values,
 * exported with COPY … TO) into `clinical_item_copy (LIKE clinical_item INCLUDING ALL)`, i.e. the
 * same primary key and person index, on the same database right after the ingest. Rows go in in
 * their physical order (the order ingest wrote them), in slices of a few thousand pages so that
 * memory stays bounded; only the COPY … FROM statements are timed. PostgreSQL: COPY FROM STDIN
 * over the pg driver (bench/pg-copy.ts). PGlite: COPY FROM '/dev/blob'.
 */
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { copyFrom, copyTo } from './pg-copy.ts';
import { rate, since } from './stats.ts';

export interface CopyRun {
  rows: number;
  bytes: number;
  ms: number;
  perSecond: number;
  /** CPU ms of the backend that ran the COPY statements (read from /proc: the database on this machine) */
  backendCpuMs?: number;
}

const CREATE = 'CREATE TABLE clinical_item_copy (LIKE clinical_item INCLUDING ALL)';
const PAGES = `SELECT (pg_relation_size('clinical_item') / current_setting('block_size')::int)::int AS pages`;
const slice = (from: number, to: number): string =>
  `SELECT * FROM clinical_item WHERE ctid >= '(${from},0)'::tid AND ctid < '(${to},0)'::tid`;

/** Gathers CopyData rows into ~1 MiB buffers, as a file or socket read would deliver them. */
function rebatch(data: Buffer[], size = 1 << 20): Buffer[] {
  const out: Buffer[] = [];
  let group: Buffer[] = [];
  let length = 0;
  for (const b of data) {
    group.push(b);
    length += b.length;
    if (length >= size) {
      out.push(Buffer.concat(group, length));
      group = [];
      length = 0;
    }
  }
  if (group.length > 0) out.push(Buffer.concat(group, length));
  return out;
}

export async function rawCopyPostgres(url: string, slicePages = 20_000): Promise<CopyRun> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const run: CopyRun = { rows: 0, bytes: 0, ms: 0, perSecond: 0 };
  try {
    await client.query('DROP TABLE IF EXISTS clinical_item_copy');
    await client.query(CREATE);
    const pages = (await client.query<{ pages: number }>(PAGES)).rows[0]?.pages ?? 0;
    for (let from = 0; from < pages; from += slicePages) {
      const out = await copyTo(client, `COPY (${slice(from, from + slicePages)}) TO STDOUT`);
      const buffers = rebatch(out.data);
      out.data.length = 0;
      run.bytes += buffers.reduce((s, b) => s + b.length, 0);
      const started = performance.now();
      run.rows += await copyFrom(client, 'COPY clinical_item_copy FROM STDIN', buffers);
      run.ms += since(started);
    }
    run.perSecond = rate(run.rows, run.ms);
    await client.query('DROP TABLE clinical_item_copy');
    return run;
  } finally {
    await client.end();
  }
}

export async function rawCopyPglite(pglite: PGlite, slicePages = 10_000): Promise<CopyRun> {
  const run: CopyRun = { rows: 0, bytes: 0, ms: 0, perSecond: 0 };
  await pglite.query('DROP TABLE IF EXISTS clinical_item_copy');
  await pglite.query(CREATE);
  const pages = (await pglite.query<{ pages: number }>(PAGES)).rows[0]?.pages ?? 0;
  for (let from = 0; from < pages; from += slicePages) {
    const out = await pglite.query(`COPY (${slice(from, from + slicePages)}) TO '/dev/blob'`);
    if (!out.blob) throw new Error('PGlite returned no blob for COPY TO');
    run.bytes += out.blob.size;
    const started = performance.now();
    const r = await pglite.query("COPY clinical_item_copy FROM '/dev/blob'", [], { blob: out.blob });
    run.ms += since(started);
    run.rows += r.affectedRows ?? 0;
  }
  const counted = await pglite.query<{ n: number }>('SELECT count(*)::int AS n FROM clinical_item_copy');
  run.rows = counted.rows[0]?.n ?? run.rows;
  run.perSecond = rate(run.rows, run.ms);
  await pglite.query('DROP TABLE clinical_item_copy');
  return run;
}
