/**
 * `sharedcare serve --workers N`: N server processes on one port (node:cluster), each with its own
 * database pool, sharing nothing but the database. Everything a request may need from an earlier
 * one lives there: SMART launches and codes (smart_launch, smart_code), break-glass grants
 * (break_glass), rate-limit counts (rate_limit); sessions are signed tokens that every process
 * verifies with the same secret. The primary process starts, restarts and stops workers, and
 * gathers their metrics for /metrics (src/api/cluster-metrics.ts).
 *
 * The first worker starts alone (it migrates, relabels, registers the region and processes HL7 v2
 * messages left half done), the others once it listens, so no two processes do that work at once.
 */
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import { answerMetricsRequests } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import { announceServer } from './server-file.ts';

/** What a worker tells the primary once it listens. */
export const LISTENING = 'sharedcare:listening';

/** A restarted worker waits this long, so a worker that cannot start does not spin. */
const RESTART_DELAY_MS = 1000;

export class WorkersError extends Error {}

/** The number of processes: --workers, else one per core on PostgreSQL, one on PGlite. */
export function workerCount(option: string | undefined, config: Config): number {
  if (option === undefined) return config.databaseUrl ? os.availableParallelism() : 1;
  if (!/^\d{1,3}$/.test(option) || Number(option) < 1)
    throw new WorkersError('--workers must be a whole number of processes, 1 or more');
  const n = Number(option);
  if (n > 1 && !config.databaseUrl)
    throw new WorkersError(
      '--workers above 1 needs PostgreSQL (DATABASE_URL): the embedded database serves one process',
    );
  return n;
}

/**
 * What the workers' environment adds: glibc's allocator capped at two arenas (MALLOC_ARENA_MAX),
 * unless the operator chose a setting. Large record opens are compressed in libuv's thread pool
 * (src/api/fhir/large-answer.ts), and glibc gives each thread an arena of its own that keeps the
 * memory freed in it rather than returning it (nodejs/node#8871): in the soak a server with two
 * arenas ran at 270–300 MiB resident, one without at 310–390, with the same heap (BENCHMARKS.md,
 * Soak, 2026-12-07). glibc reads the setting once, when a process starts, so it can be given to the
 * workers, not taken by the process already running (docs/operations.md).
 */
export function workerEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const chosen =
    env.MALLOC_ARENA_MAX !== undefined || /glibc\.malloc\.arena_max/.test(env.GLIBC_TUNABLES ?? '');
  return chosen ? {} : { MALLOC_ARENA_MAX: '2' };
}

/** Whether this process is a worker started by runWorkers (and which). */
export function workerId(): number | undefined {
  return cluster.isWorker ? cluster.worker?.id : undefined;
}

/** Tells the primary that this worker listens (a no-op outside a cluster). */
export function announceListening(): void {
  if (cluster.isWorker) process.send?.(LISTENING);
}

/**
 * Runs in the primary: forks `count` workers (which run `sharedcare serve` again, with the port
 * fixed to `config.port`), restarts any that die, and stops them all on SIGINT or SIGTERM.
 */
export async function runWorkers(config: Config, count: number, argv: string[]): Promise<void> {
  // the workers run the same command; --port repeated takes the last value: the one resolved here
  cluster.setupPrimary({ args: [...argv.slice(2), '--port', String(config.port)] });
  let stopping = false;
  let started = false;
  // the workers that listen: those a scrape of /metrics gathers from
  const serving = new Set<Worker>();
  answerMetricsRequests(() => [...serving].filter((w) => w.isConnected()));
  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork(workerEnvironment());
      worker.once('exit', () => serving.delete(worker));
      const onMessage = (m: unknown) => {
        if (m !== LISTENING) return;
        worker.off('exit', onEarlyExit);
        serving.add(worker);
        resolve(worker);
      };
      const onEarlyExit = (code: number | null) =>
        reject(new WorkersError(`a server process stopped before it listened (exit code ${code})`));
      worker.on('message', onMessage);
      worker.once('exit', onEarlyExit);
    });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping || !started) return;
    process.stderr.write(
      `server process ${worker.id} (pid ${worker.process.pid}) stopped (${signal ?? `exit code ${code}`}): starting another\n`,
    );
    setTimeout(() => void fork().catch(() => undefined), RESTART_DELAY_MS);
  });

  try {
    await fork(); // alone first: see the header
  } catch (err) {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    throw err;
  }
  // The server serves from here. The other workers start now; one that stops before it listens
  // (its database went away while it started: a failover) is replaced like any other, rather than
  // taking the serving one down with it, as a failed start of the second worker used to.
  started = true;
  const rest = await Promise.allSettled(Array.from({ length: count - 1 }, fork));
  const failed = rest.filter((r) => r.status === 'rejected').length;
  const unannounce = announceServer(config.dataDir, config.publicUrl);
  process.stderr.write(
    `  processes ${count} (node:cluster, primary pid ${process.pid}), one port` +
      (failed ? `; ${failed} did not start and ${failed === 1 ? 'is' : 'are'} being started again` : '') +
      '\n',
  );

  const stop = () => {
    if (stopping) return;
    stopping = true;
    unannounce();
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    let left = workers.length;
    if (left === 0) process.exit(0);
    for (const w of workers) {
      w.once('exit', () => --left === 0 && process.exit(0));
      w.process.kill('SIGTERM');
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
