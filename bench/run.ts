/**
 * `npm run bench`: generates a synthetic region, loads it through the real ingest path into
 * PostgreSQL and PGlite (with a raw COPY of the same rows as the yardstick), opens a typical and a
 * heavy person's record over HTTP under load, at the ingested size and at a region grown in SQL,
 * and prints a markdown table (also written to bench/out/results-<timestamp>.md).
 * Options: see bench/options.ts or `npm run bench -- --help`. Progress goes to stderr.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stopPretenuring } from '../src/cli/memory.ts';
import { DEFAULT_SEED } from '../src/generate/index.ts';
import { postgresReachable } from './databases.ts';
import { parseOptions } from './options.ts';
import { runPglite, runPostgres, type RunContext } from './phases.ts';
import { choosePersons } from './region.ts';
import { renderReport } from './report.ts';
import { runSynthea } from './synthea.ts';
import { SYNTHEA_DIR, syntheaPresent } from './synthea-data.ts';
import { describeMachine, sampleLoad } from './results.ts';
import { int, note, since } from './stats.ts';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'bench', 'out');

function pgliteVersion(): string {
  const pkg = path.join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  // the in-process server as `sharedcare serve` runs (`node --allocation-site-pretenuring` keeps V8's default)
  stopPretenuring();
  const started = new Date();
  const t0 = performance.now();
  const load = sampleLoad();
  const opts = parseOptions(process.argv.slice(2), process.env);
  const tag = started.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  const workDir = path.join(outDir, `work-${tag}`);
  mkdirSync(workDir, { recursive: true });
  const seed = opts.seed ?? DEFAULT_SEED;
  const now = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000); // midnight UTC, as the generator

  const scan = Math.min(opts.persons, opts.pglite ? opts.pglitePersons : opts.persons, 2000);
  const persons = opts.data === 'generator' ? choosePersons(scan, seed, now) : [];
  if (opts.data === 'generator')
    note(
      `persons to open: ${persons.map((p) => `${p.label} #${p.index} (${int(p.clinicalResources)} clinical resources)`).join(', ')}`,
    );

  const ctx: RunContext = {
    opts,
    workDir,
    tag,
    now,
    seed,
    persons,
    ingest: [],
    open: [],
    sql: [],
    notes: [],
    cleanups: [],
  };
  const cleanup = async (): Promise<void> => {
    // each step gets 30 s, so that a stuck one (e.g. PGlite mid-transaction) does not keep the
    // PostgreSQL database from being dropped
    for (const fn of ctx.cleanups.reverse()) {
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 30_000).unref());
      await Promise.race([fn(), timeout]).catch((e: unknown) => note(`cleanup: ${String(e)}`));
    }
    ctx.cleanups = [];
    if (!opts.keep) rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    note('interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  const pgVersion = opts.postgres ? await postgresReachable(opts.pgUrl) : undefined;
  let pgliteDescription = `${pgliteVersion()}`;
  try {
    if (opts.data === 'synthea' && !syntheaPresent()) {
      const msg = `Synthea fixtures not found at ${SYNTHEA_DIR} (they come from ../shared, beside the repository): the Synthea benchmark is skipped.`;
      note(msg);
      ctx.notes.push(msg);
    } else if (!opts.postgres) ctx.notes.push('PostgreSQL parts skipped (--no-postgres).');
    else if (!pgVersion) {
      const msg = `PostgreSQL is not reachable at ${opts.pgUrl}: the PostgreSQL parts are skipped.`;
      note(msg);
      ctx.notes.push(msg);
    } else if (opts.data === 'synthea') await runSynthea(ctx, opts.pgUrl);
    else await runPostgres(ctx, opts.pgUrl);

    if (opts.pglite) {
      const v = await runPglite(ctx);
      pgliteDescription = `${pgliteDescription} (PostgreSQL ${v} in WebAssembly)`;
    } else if (opts.data === 'generator') ctx.notes.push('PGlite parts skipped (--no-pglite).');
  } finally {
    await cleanup();
  }

  if (opts.data === 'generator')
    ctx.notes.push(
      'Ingest: resources/s counts every resource stored or linked (Patients included), sent as `sharedcare load` sends them ' +
        '(loadFiles over the direct backend, with its number of calls in flight); ' +
        'raw COPY: rows/s of COPY … FROM of the same clinical_item rows into a table of the same shape (same indexes).',
    );
  ctx.notes.push(
    'Record open: latencies of 2xx responses measured by autocannon (worker thread) on 127.0.0.1, ' +
      'server, load generator and database sharing the same cores. Gate in-process: gate.everything() alone, ' +
      'no HTTP. Bare SQL: the store query alone, one at a time, on the driver.',
  );
  const report = renderReport({
    started,
    totalMs: since(t0),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: describeMachine(pgVersion, pgliteDescription, load.stop()),
    options: opts,
    ingest: ctx.ingest,
    open: ctx.open,
    sql: ctx.sql,
    notes: ctx.notes,
  });
  const file = path.join(outDir, `results-${tag}.md`);
  writeFileSync(file, report);
  process.stdout.write(`${report}\n`);
  note(`written to ${path.relative(root, file)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
