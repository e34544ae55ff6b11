/**
 * How `npm run bench:identity` times one decision: wall time, and the CPU time the decision took
 * in this process and in its PostgreSQL backend (read from /proc/<pid>/schedstat, nanoseconds on
 * the CPU, when the server runs on this machine). On a machine shared with other work the wall time
 * includes waiting for a core; the CPU time does not. `--profile` sums time in flight by statement.
 */
import { readFileSync } from 'node:fs';
import type { Queryable } from '../src/db/index.ts';
import { since } from './stats.ts';

/** Nanoseconds the process `pid` has spent on a CPU, or undefined when it cannot be read. */
export function onCpuNs(pid: number): number | undefined {
  try {
    const file = pid === process.pid ? `/proc/self/task/${pid}/schedstat` : `/proc/${pid}/schedstat`;
    return Number(readFileSync(file, 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

/** This process's main thread (the linker's JavaScript and the driver), without GC helper threads. */
const ownCpuMs = (): number => {
  const ns = onCpuNs(process.pid);
  if (ns !== undefined) return ns / 1e6;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export interface DecisionTiming {
  wallMs: number;
  /** this process's CPU plus the backend's; undefined when the backend's cannot be read */
  cpuMs?: number;
  /** the backend's share of cpuMs */
  backendMs?: number;
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
  const b0 = backend === undefined ? undefined : onCpuNs(backend);
  const c0 = ownCpuMs();
  const t = performance.now();
  await fn();
  const wallMs = since(t);
  const own = ownCpuMs() - c0;
  const b1 = backend === undefined ? undefined : onCpuNs(backend);
  if (kind === 'pglite') return { wallMs, cpuMs: own }; // the database runs in this process
  return b0 === undefined || b1 === undefined
    ? { wallMs }
    : { wallMs, cpuMs: own + (b1 - b0) / 1e6, backendMs: (b1 - b0) / 1e6 };
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
