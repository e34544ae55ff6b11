/**
 * Ingest throughput through the real path: the generated files go in source by source exactly as
 * `sharedcare load` sends them in direct mode — loadFiles (src/cli/load.ts) over directBackend
 * (src/cli/backend.ts): NDJSON in chunks of ~2000 lines and each Bundle file whole, each chunk
 * through authoriseSource + ingestFhir with the app's ingest deps (buildIngestDeps: NHS-number
 * linker, policy classifier from config/sensitive-codes.csv, relationship facts), with as many
 * chunks in flight as the CLI uses for that database (backend.parallelism).
 * Measured: wall-clock time of the whole load, file reading included, and resources/s.
 */
import { directBackend } from '../src/cli/backend.ts';
import { LoadAborted, loadFiles } from '../src/cli/load.ts';
import { loadConfig, type Config } from '../src/config/index.ts';
import type { Database } from '../src/db/index.ts';
import { regionSpec } from '../src/generate/index.ts';
import { applyRegion } from '../src/region/index.ts';
import type { RegionFiles } from './region.ts';
import { int, note, rate, since } from './stats.ts';

/** The configuration the benchmark runs with: defaults (schema validation, default code list), quiet. */
export function benchConfig(): Config {
  return loadConfig({}, { LOG_LEVEL: 'silent' });
}

export interface IngestRun {
  resources: number;
  requests: number;
  failedRequests: number;
  firstFailure?: string;
  /** chunks in flight at once */
  concurrency: number;
  counts: Record<string, number>;
  ms: number;
  perSecond: number;
  /** clinical_item rows after the load */
  itemRows: number;
}

export async function ingestRegion(
  db: Database,
  region: Pick<RegionFiles, 'sources'>,
  chunk: number,
  label: string,
  /** requests in flight (default: as many as the CLI uses for this database) */
  inFlight?: number,
): Promise<IngestRun> {
  const spec = regionSpec();
  await applyRegion(db, spec.organisations, spec.sources);
  const backend = await directBackend(benchConfig(), db);
  const run: IngestRun = {
    resources: 0,
    requests: 0,
    failedRequests: 0,
    concurrency: inFlight ?? backend.parallelism,
    counts: {},
    ms: 0,
    perSecond: 0,
    itemRows: 0,
  };
  const started = performance.now();
  for (const { id, dir } of region.sources) {
    let summary;
    try {
      summary = await loadFiles(backend, id, [dir], { chunk, concurrency: run.concurrency });
    } catch (err) {
      if (!(err instanceof LoadAborted)) throw err;
      summary = err.summary;
      run.firstFailure ??= `${id}: ${err.message}`;
    }
    run.requests += summary.requests;
    run.failedRequests += summary.failedRequests;
    run.resources += summary.resources;
    for (const [k, v] of Object.entries(summary.counts)) run.counts[k] = (run.counts[k] ?? 0) + v;
    const failure = summary.failures[0];
    if (failure) run.firstFailure ??= `${id} ${failure.part}: ${failure.problems[0] ?? ''}`;
    note(
      `  ${label}: ${id} done; ${int(run.resources)} resources, ${int(rate(run.resources, since(started)))}/s`,
    );
  }
  run.ms = since(started);
  run.perSecond = rate(run.resources, run.ms);
  const { rows } = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM clinical_item');
  run.itemRows = Number(rows[0]?.n ?? 0);
  return run;
}
