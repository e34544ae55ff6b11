/**
 * `npm run bench:retention`: how long `sharedcare retention run` takes over a generated region.
 *
 * The region is written by `sharedcare generate`'s own code with its clock set --years-back years
 * in the past (default 10), so its records' last contacts lie 10 to 25 years ago: most adults' whole
 * records are past the 8-year rule, children's and mental-health records (the community and
 * mental-health trust) are partly kept. It is loaded through the real ingest path (`sharedcare
 * load`'s code over the direct backend) into a PostgreSQL database of its own (default 2,000
 * persons) and into a PGlite folder (default 500), and then, on each, timed:
 *   1. a dry run (counts only), 2. the real run (removals, batched, audited), 3. a second real run
 * (nothing left to remove: the cost of examining everyone).
 * Options (argv or BENCH_RETENTION_<NAME>): --persons, --pglite-persons (0 skips), --years-back,
 * --batch (persons per transaction), --pg-url, --seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { directBackend } from '../src/cli/backend.ts';
import { loadFiles } from '../src/cli/load.ts';
import { loadConfig } from '../src/config/index.ts';
import { openDatabase, type Database } from '../src/db/index.ts';
import { getDefaultNow, regionSpec, writeRegion } from '../src/generate/index.ts';
import { applyRegion } from '../src/region/index.ts';
import {
  addYears,
  DEFAULT_BATCH_PERSONS,
  runRetention,
  type RetentionReport,
} from '../src/retention/index.ts';
import { createBenchDatabase, postgresReachable } from './databases.ts';
import { int, note, rate, since } from './stats.ts';

const { values } = parseArgs({
  options: {
    persons: { type: 'string' },
    'pglite-persons': { type: 'string' },
    'years-back': { type: 'string' },
    batch: { type: 'string' },
    'pg-url': { type: 'string' },
    seed: { type: 'string' },
  },
});
const opt = (name: keyof typeof values, fallback: string): string =>
  values[name] ?? process.env[`BENCH_RETENTION_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
const PERSONS = Number(opt('persons', '2000'));
const PGLITE_PERSONS = Number(opt('pglite-persons', '500'));
const YEARS_BACK = Number(opt('years-back', '10'));
const BATCH = Number(opt('batch', String(DEFAULT_BATCH_PERSONS)));
const SEED = Number(opt('seed', '1'));
const PG_URL = opt('pg-url', process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

const config = loadConfig({}, { NODE_ENV: 'test' });
const actor = { userId: 'bench@cli', org: 'CLI', role: 'sharedcare-admin' };
const rows: string[] = [];

async function counts(db: Database): Promise<{ items: number; persons: number; versions: number }> {
  const { rows: r } = await db.query<{ items: number; persons: number; versions: number }>(
    `SELECT (SELECT count(*) FROM clinical_item)::int AS items, (SELECT count(*) FROM person)::int AS persons,
       (SELECT count(*) FROM clinical_item_version)::int AS versions`,
  );
  return r[0]!;
}

function row(label: string, persons: number, items: number, run: string, r: RetentionReport, ms: number) {
  const kept = r.kept.map((k) => int(k.items)).join(' / ');
  rows.push(
    `| ${label} | ${int(persons)} | ${int(items)} | ${run} | ${r.batches} | ${(ms / 1000).toFixed(2)} | ${int(rate(r.persons.examined, ms))} | ${int(r.removed.items)} | ${int(rate(r.removed.items, ms))} | ${int(r.persons.removed)} / ${int(r.persons.partlyRemoved)} | ${kept} |`,
  );
}

async function bench(label: string, db: Database, regionDir: string): Promise<void> {
  const spec = regionSpec();
  await applyRegion(db, spec.organisations, spec.sources);
  const backend = await directBackend(config, db);
  const loadStart = performance.now();
  for (const s of spec.sources)
    await loadFiles(backend, s.id, [path.join(regionDir, s.id)], { concurrency: backend.parallelism });
  if (db.kind === 'postgres') await db.query('VACUUM ANALYZE');
  const before = await counts(db);
  note(
    `${label}: loaded ${int(before.persons)} persons, ${int(before.items)} items in ${(since(loadStart) / 1000).toFixed(0)} s`,
  );
  const runs: [string, boolean][] = [
    ['dry run', true],
    ['real run', false],
    ['second real run', false],
  ];
  for (const [name, dryRun] of runs) {
    const t = performance.now();
    const r = await runRetention(db, config.retention, actor, { dryRun, batchSize: BATCH });
    const ms = since(t);
    row(label, before.persons, before.items, name, r, ms);
    note(`${label}: ${name} ${(ms / 1000).toFixed(2)} s, ${int(r.removed.items)} items`);
    if (name === 'real run') {
      const rules = r.rules.map((c) => `${c.rule} ${int(c.persons)} persons / ${int(c.items)} items`);
      note(`${label}: by rule: ${rules.join('; ')}`);
    }
  }
  const after = await counts(db);
  note(
    `${label}: after: ${int(after.persons)} persons, ${int(after.items)} items, ${int(after.versions)} versions`,
  );
  await db.close();
}

const work = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-retention-bench-'));
try {
  const clock = new Date(addYears(getDefaultNow().getTime(), -YEARS_BACK));
  const regionDir = path.join(work, 'region');
  const largest = Math.max(PERSONS, PGLITE_PERSONS);
  const g = performance.now();
  await writeRegion({ persons: largest, outDir: regionDir, seed: SEED, now: clock });
  note(
    `generated ${largest} persons as of ${clock.toISOString().slice(0, 10)} in ${(since(g) / 1000).toFixed(0)} s`,
  );

  if (PERSONS > 0 && (await postgresReachable(PG_URL))) {
    const pgDir = path.join(work, 'pg-region');
    if (PERSONS !== largest) await writeRegion({ persons: PERSONS, outDir: pgDir, seed: SEED, now: clock });
    const bdb = await createBenchDatabase(PG_URL, `retention_${Date.now()}`);
    try {
      await bench(
        'PostgreSQL',
        await openDatabase({ databaseUrl: bdb.url }),
        PERSONS === largest ? regionDir : pgDir,
      );
    } finally {
      await bdb.drop();
    }
  } else if (PERSONS > 0) note(`PostgreSQL not reachable at ${PG_URL}: skipped`);

  if (PGLITE_PERSONS > 0) {
    const liteDir = path.join(work, 'pglite-region');
    if (PGLITE_PERSONS !== largest)
      await writeRegion({ persons: PGLITE_PERSONS, outDir: liteDir, seed: SEED, now: clock });
    const db = await openDatabase({ dataDir: path.join(work, 'pglite-data') });
    await bench('PGlite', db, PGLITE_PERSONS === largest ? regionDir : liteDir);
  }

  process.stdout.write(
    [
      `Region generated as of ${YEARS_BACK} years ago (seed ${SEED}); ${BATCH} persons per batch (transaction).`,
      '',
      '| Database | Persons | Items | Run | Batches | Time (s) | Persons/s | Items removed | Items removed/s | Whole / partly removed | Kept: maternity / mental-health items |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
