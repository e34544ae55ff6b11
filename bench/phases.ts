/**
 * The two halves of a run. PostgreSQL: generate → ingest (real path) → raw COPY of the same rows →
 * record opens and bare SQL at the ingested size → grow the region in SQL → the same again.
 * PGlite: generate a smaller prefix of the same region → ingest → raw COPY → record opens.
 */
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { openDatabase, type Database } from '../src/db/index.ts';
import { bareSqlPglite, bareSqlPostgres, type SqlRun } from './bare-sql.ts';
import { growRegion } from './bulk-load.ts';
import { createBenchDatabase, openBenchPglite, type BenchDatabase } from './databases.ts';
import { ingestRegion } from './ingest.ts';
import type { BenchOptions } from './options.ts';
import { rawCopyPglite, rawCopyPostgres } from './raw-copy.ts';
import { recordOpen, startServer, type BenchServer } from './record-open.ts';
import { generateRegion, type ChosenPerson } from './region.ts';
import type { BareSqlRow, DbLabel, IngestRow, OpenRow } from './results.ts';
import { bytes, int, note, seconds } from './stats.ts';

export interface RunContext {
  opts: BenchOptions;
  workDir: string;
  tag: string;
  now: Date;
  seed: number;
  persons: ChosenPerson[];
  ingest: IngestRow[];
  open: OpenRow[];
  sql: BareSqlRow[];
  notes: string[];
  /** run on exit, last first (also on Ctrl-C) */
  cleanups: (() => Promise<void>)[];
}

async function personIds(db: Database, persons: ChosenPerson[]): Promise<Map<ChosenPerson, string>> {
  const ids = new Map<ChosenPerson, string>();
  for (const p of persons) {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM person WHERE nhs_number = $1', [
      p.nhsNumber,
    ]);
    if (!rows[0]) throw new Error(`person ${p.index} (${p.label}) was not loaded`);
    ids.set(p, rows[0].id);
  }
  return ids;
}

/** A record to open: how the report names it, the viewer's organisation, and the person's id. */
export interface OpenTarget {
  person: string;
  gpOrg: string;
  id: string;
}

const targetsOf = (ids: Map<ChosenPerson, string>): OpenTarget[] =>
  [...ids].map(([p, id]) => ({
    person: `${p.label} (#${p.index}, viewer at ${p.gpOrg})`,
    gpOrg: p.gpOrg,
    id,
  }));

export async function opens(
  ctx: RunContext,
  db: DbLabel,
  region: string,
  server: BenchServer,
  targets: OpenTarget[],
  sql: (personId: string, iterations: number, maxMs: number) => Promise<SqlRun>,
): Promise<void> {
  const { duration, connections, sqlIterations } = ctx.opts;
  const loopMs = Math.min(duration, 3) * 1000;
  for (const { person, gpOrg, id } of targets) {
    note(`${db} ${region}: record open, ${person}`);
    const viewer = await server.viewer(gpOrg);
    const run = await recordOpen(server, viewer, id, {
      duration,
      connections,
      gateIterations: sqlIterations,
      loopMs,
    });
    ctx.open.push({ db, region, person, run });
    const many = run.loads[run.loads.length - 1];
    note(
      `  ${int(run.items)} items, ${bytes(run.bytes)}; p50 ${many?.latency.p50.toFixed(2)} ms, ` +
        `p99 ${many?.latency.p99.toFixed(2)} ms, ${int(many?.perSecond ?? 0)} req/s at ${many?.connections} conn`,
    );
    ctx.sql.push({ db, region, person, run: await sql(id, sqlIterations, loopMs) });
  }
}

/** The run's own PostgreSQL database, opened; dropped (unless --keep) and closed on exit. */
export async function benchPostgres(
  ctx: RunContext,
  adminUrl: string,
  tag: string,
): Promise<{ bench: BenchDatabase; db: Database; closed: () => void }> {
  const bench = await createBenchDatabase(adminUrl, tag);
  ctx.cleanups.push(async () => {
    if (ctx.opts.keep) note(`kept database ${bench.name}`);
    else await bench.drop();
  });
  const db = await openDatabase({ databaseUrl: bench.url });
  let dbOpen = true;
  ctx.cleanups.push(async () => {
    if (dbOpen) await db.close();
  });
  return { bench, db, closed: () => (dbOpen = false) };
}

export async function runPostgres(ctx: RunContext, adminUrl: string): Promise<void> {
  const { opts } = ctx;
  note(`PostgreSQL: generating ${int(opts.persons)} persons`);
  const region = await generateRegion(
    path.join(ctx.workDir, `region-${opts.persons}`),
    opts.persons,
    ctx.seed,
    ctx.now,
    opts.keep,
  );
  ctx.cleanups.push(async () => region.remove());
  note(`  ${int(region.summary.resources)} resources in ${seconds(region.generateMs)}`);

  const { bench, db, closed } = await benchPostgres(ctx, adminUrl, ctx.tag);

  note(`PostgreSQL: ingesting into ${bench.name}`);
  const run = await ingestRegion(db, region, opts.chunk, 'PostgreSQL');
  note(`  ${int(run.resources)} resources in ${seconds(run.ms)}: ${int(run.perSecond)}/s`);
  region.remove();
  note('PostgreSQL: raw COPY of the same rows');
  const copy = await rawCopyPostgres(bench.url);
  note(`  ${int(copy.rows)} rows in ${seconds(copy.ms)}: ${int(copy.perSecond)}/s`);
  ctx.ingest.push({ db: 'PostgreSQL', persons: opts.persons, run, copy });
  // settle as after growing: no checkpoint of the load still being written during the reads
  await db.query('VACUUM ANALYZE');
  await db.query('CHECKPOINT');

  const server = await startServer(db);
  try {
    const ids = await personIds(db, ctx.persons);
    const sql = (id: string, n: number, max: number) => bareSqlPostgres(bench.url, id, n, max);
    await opens(ctx, 'PostgreSQL', `${int(opts.persons)} persons (ingested)`, server, targetsOf(ids), sql);
    let rows = run.itemRows;
    for (const target of opts.grow) {
      note(`PostgreSQL: growing the region to ${int(target)} persons in SQL (${opts.growBody} bodies)`);
      const grown = await growRegion(bench.url, target, opts.growBody, rows);
      rows = grown.itemRows;
      ctx.notes.push(
        `Grown in SQL to ${int(grown.persons)} persons (${int(grown.itemRows)} clinical_item rows, ` +
          `added rows with ${grown.body} bodies, ` +
          `${bytes(grown.tableBytes)} with indexes) in ${seconds(grown.ms)}: persons, links and relationship facts ${seconds(grown.sideMs)}, ` +
          `clinical_item insert ${seconds(grown.insertMs)}, ` +
          `index rebuild ${seconds(grown.indexMs)}, VACUUM ANALYZE + CHECKPOINT ${seconds(grown.vacuumMs)}.`,
      );
      await opens(ctx, 'PostgreSQL', `${int(grown.persons)} persons (grown)`, server, targetsOf(ids), sql);
    }
  } finally {
    await server.close();
    await db.close();
    closed();
  }
}

export async function runPglite(ctx: RunContext): Promise<string> {
  const { opts } = ctx;
  note(`PGlite: generating ${int(opts.pglitePersons)} persons`);
  const region = await generateRegion(
    path.join(ctx.workDir, `region-${opts.pglitePersons}`),
    opts.pglitePersons,
    ctx.seed,
    ctx.now,
    opts.keep,
  );
  ctx.cleanups.push(async () => region.remove());
  const bench = await openBenchPglite(path.join(ctx.workDir, 'pglite'), opts.keep);
  ctx.cleanups.push(() => bench.remove());
  const pglite: PGlite = bench.pglite;
  const version =
    (await pglite.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';

  note('PGlite: ingesting into a data folder');
  const run = await ingestRegion(bench.db, region, opts.chunk, 'PGlite');
  note(`  ${int(run.resources)} resources in ${seconds(run.ms)}: ${int(run.perSecond)}/s`);
  region.remove();
  note('PGlite: raw COPY of the same rows');
  const copy = await rawCopyPglite(pglite);
  note(`  ${int(copy.rows)} rows in ${seconds(copy.ms)}: ${int(copy.perSecond)}/s`);
  ctx.ingest.push({ db: 'PGlite', persons: opts.pglitePersons, run, copy });
  await pglite.query('VACUUM ANALYZE');

  const server = await startServer(bench.db);
  try {
    const ids = await personIds(bench.db, ctx.persons);
    await opens(
      ctx,
      'PGlite',
      `${int(opts.pglitePersons)} persons (ingested)`,
      server,
      targetsOf(ids),
      (id, n, max) => bareSqlPglite(pglite, id, n, max),
    );
  } finally {
    await server.close();
    await bench.remove();
  }
  return version;
}
