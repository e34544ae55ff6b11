/**
 * How `npm run bench:identity` times one decision: wall time, and the CPU time the decision took
 * in this process and in its PostgreSQL backend (read from /proc/<pid>/schedstat, nanoseconds on
 * the CPU, when the server runs on this machine). On a machine shared with other work the wall time
 * includes waiting for a core; the CPU time does not. `--profile` sums time in flight by statement.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Patient } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../src/db/index.ts';
import type { PersonLinker } from '../src/identity/index.ts';
import { since } from './stats.ts';

/**
 * Read into one buffer: readFileSync(file, 'utf8') of a /proc file (Node 20's native readFileUtf8)
 * leaves ~1 MB for each young collection to promote in a loop of reads, and readFileSync(file)
 * allocates an 8 KiB buffer outside the heap for each, which at 4 reads a decision made V8 run a
 * full collection every ~0.4 s (--trace-gc-nvp). The timing's reads are not the server's work.
 */
const schedstat = Buffer.alloc(256);

/**
 * Nanoseconds the process `pid` has spent on a CPU and waiting on a run queue for one (the first two
 * fields of schedstat), or undefined when they cannot be read.
 */
export function schedNs(pid: number): { cpu: number; queued: number } | undefined {
  try {
    const file = pid === process.pid ? `/proc/self/task/${pid}/schedstat` : `/proc/${pid}/schedstat`;
    const fd = openSync(file, 'r');
    let n: number;
    try {
      n = readSync(fd, schedstat, 0, schedstat.length, 0);
    } finally {
      closeSync(fd);
    }
    const [cpu, queued] = schedstat.toString('latin1', 0, n).split(' ');
    return { cpu: Number(cpu), queued: Number(queued) };
  } catch {
    return undefined;
  }
}

/** Nanoseconds the process `pid` has spent on a CPU, or undefined when it cannot be read. */
export const onCpuNs = (pid: number): number | undefined => schedNs(pid)?.cpu;

/** This process's main thread (the linker's JavaScript and the driver), without GC helper threads. */
const ownSched = (): { cpu: number; queued: number } => {
  const ns = schedNs(process.pid);
  if (ns !== undefined) return { cpu: ns.cpu / 1e6, queued: ns.queued / 1e6 };
  const u = process.cpuUsage();
  return { cpu: (u.user + u.system) / 1000, queued: 0 };
};

export interface DecisionTiming {
  wallMs: number;
  /** this process's CPU plus the backend's; undefined when the backend's cannot be read */
  cpuMs?: number;
  /** the backend's share of cpuMs */
  backendMs?: number;
  /** time this process's main thread and the backend spent ready to run but waiting for a core */
  queuedMs?: number;
  /** the backend's share of queuedMs */
  backendQueuedMs?: number;
}

/** Times `fn` (run inside a transaction on `tx`), with the CPU of the backend serving `tx`. */
export async function timeDecision(
  tx: Queryable,
  kind: 'postgres' | 'pglite',
  fn: () => Promise<unknown>,
): Promise<DecisionTiming> {
  let backend: number | undefined;
  if (kind === 'postgres') {
    const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    backend = rows[0]?.pid;
  }
  const b0 = backend === undefined ? undefined : schedNs(backend);
  const c0 = ownSched();
  const t = performance.now();
  await fn();
  const wallMs = since(t);
  const c1 = ownSched();
  const own = c1.cpu - c0.cpu;
  const b1 = backend === undefined ? undefined : schedNs(backend);
  // the database runs in this process
  if (kind === 'pglite') return { wallMs, cpuMs: own, queuedMs: c1.queued - c0.queued };
  if (b0 === undefined || b1 === undefined) return { wallMs };
  const backendMs = (b1.cpu - b0.cpu) / 1e6;
  const backendQueuedMs = (b1.queued - b0.queued) / 1e6;
  const queuedMs = c1.queued - c0.queued + backendQueuedMs;
  return { wallMs, cpuMs: own + backendMs, backendMs, queuedMs, backendQueuedMs };
}

/** Time in flight per statement (its first words), summed over the timed decisions. */
export const statementMs = new Map<string, { n: number; ms: number }>();

export function timedQueries(tx: Queryable): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]) {
      const t = performance.now();
      const r = await tx.query<T>(sql, params);
      const key = sql.replace(/\s+/g, ' ').trim().slice(0, 70);
      const s = statementMs.get(key) ?? { n: 0, ms: 0 };
      statementMs.set(key, { n: s.n + 1, ms: s.ms + since(t) });
      return r;
    },
  };
}

/**
 * What the slowest 1 % of decisions' wall time was made of, on average: CPU (this process and the
 * backend), waiting for a core, and the rest (neither side running nor queued: I/O, or the wake-up
 * between one side and the other).
 */
export function tailParts(timings: DecisionTiming[]): string {
  const sorted = [...timings].sort((a, b) => b.wallMs - a.wallMs);
  const tail = sorted.slice(0, Math.max(1, Math.ceil(timings.length / 100)));
  if (tail.some((t) => t.cpuMs === undefined || t.queuedMs === undefined)) return '';
  const mean = (f: (t: DecisionTiming) => number) => tail.reduce((n, t) => n + f(t), 0) / tail.length;
  const wall = mean((t) => t.wallMs);
  const cpu = mean((t) => t.cpuMs!);
  const queued = mean((t) => t.queuedMs!);
  const backendQueued = mean((t) => t.backendQueuedMs ?? 0);
  const f = (x: number) => x.toFixed(2);
  return `slowest 1 % (${tail.length}), mean: wall ${f(wall)} ms = CPU ${f(cpu)} + waiting for a core ${f(queued)} (the backend ${f(backendQueued)}) + neither ${f(wall - cpu - queued)}`;
}

/** A source record as person_link holds it. */
export interface LinkedRecord {
  source_id: string;
  local_id: string;
  demographics: string;
}

class Rollback extends Error {}

/**
 * Times the linker deciding an already linked record again as a new arrival, in a transaction
 * that is rolled back (its link and review pairs removed first): the database is left as it was.
 * `wrap` may meter the transaction's statements.
 */
export async function decideAgain(
  db: Database,
  linker: PersonLinker,
  r: LinkedRecord,
  wrap: (tx: Queryable) => Queryable | Promise<Queryable> = (tx) => tx,
): Promise<DecisionTiming> {
  let timing: DecisionTiming | undefined;
  await db
    .transaction(async (tx0) => {
      const tx = await wrap(tx0);
      const key = [r.source_id, r.local_id];
      await tx.query('DELETE FROM identity_review WHERE source_id = $1 AND local_id = $2', key);
      await tx.query('DELETE FROM person_link WHERE source_id = $1 AND local_id = $2', key);
      const patient = JSON.parse(r.demographics) as Patient;
      timing = await timeDecision(tx, db.kind, () =>
        linker.linkSourcePatients(tx, r.source_id, [
          { localId: r.local_id, patient, contentHash: r.local_id },
        ]),
      );
      throw new Rollback();
    })
    .catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
  return timing!;
}
