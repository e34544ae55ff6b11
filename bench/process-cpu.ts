/**
 * CPU time spent per phase, measured where it is spent and not by the wall clock (the machine is
 * shared): this Node process (server and load generator threads together) by process.cpuUsage,
 * and the PostgreSQL backends serving the bench's database from /proc/<pid>/stat (Linux, and the
 * database on this machine; otherwise that part reads 0).
 */
import { readFileSync } from 'node:fs';
import type { Queryable } from '../src/db/index.ts';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms of a process from /proc (undefined where it cannot be read: gone, or another machine's). */
export function backendCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
  } catch {
    return undefined;
  }
}

const backendMs = (pid: number): number => backendCpuMs(pid) ?? 0;

async function backends(db: Queryable): Promise<Map<number, number>> {
  const { rows } = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return new Map(rows.map((r) => [Number(r.pid), backendMs(Number(r.pid))]));
}

export interface CpuMark {
  node: NodeJS.CpuUsage;
  pg: Map<number, number>;
}

export async function cpuMark(db: Queryable): Promise<CpuMark> {
  return { node: process.cpuUsage(), pg: await backends(db) };
}

/** CPU ms since the mark: this process, and the database's backends (those alive at the end). */
export async function cpuSince(
  db: Queryable,
  mark: CpuMark,
): Promise<{ nodeMs: number; nodeSystemMs: number; pgMs: number }> {
  const d = process.cpuUsage(mark.node);
  const now = await backends(db);
  let pgMs = 0;
  for (const [pid, ms] of now) pgMs += ms - (mark.pg.get(pid) ?? 0);
  return { nodeMs: (d.user + d.system) / 1000, nodeSystemMs: d.system / 1000, pgMs };
}
