/**
 * CPU time used in each sample window by the server process (all its threads: the event loop and
 * libuv's pool, where zlib compresses; with `--workers N`, its workers too), by its database
 * backends, and by this harness: seconds of CPU per window are what a change to the record open
 * saves, whatever else the machine is running, where latency on a shared machine mostly measures
 * the queue for a core.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux's usual builds). */
const TICKS = 100;

/** utime + stime of a process in seconds, or undefined when it is gone or not readable. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/** A process and its descendants (a server's cluster workers), from /proc's children lists. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(' ').map(Number));
    } catch {
      // gone, or no children list on this kernel: the process alone
    }
  }
  return out;
}

/** CPU seconds of a process and its descendants (`serve --workers N` forks its workers). */
export function treeCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const own = processCpuSeconds(pid);
  if (own === undefined) return undefined;
  return processTree(pid)
    .slice(1)
    .reduce((sum, child) => sum + (processCpuSeconds(child) ?? 0), own);
}

export interface CpuWindow {
  /** seconds of CPU in the window */
  server: number;
  database: number;
  harness: number;
}

/** Keeps the last reading of each process, so that each window counts only its own CPU. */
export class CpuMeter {
  private server: number | undefined;
  private harness = process.cpuUsage();
  private backends = new Map<number, number>();

  private constructor(
    private readonly serverPid: number | undefined,
    private readonly client: pg.Client,
    private readonly database: string,
  ) {
    this.server = treeCpuSeconds(serverPid);
  }

  /** A meter whose first window starts now (the backends' earlier CPU, from set-up, excluded). */
  static async start(serverPid: number | undefined, client: pg.Client, database: string): Promise<CpuMeter> {
    const meter = new CpuMeter(serverPid, client, database);
    await meter.databaseDelta();
    return meter;
  }

  async window(): Promise<CpuWindow> {
    const server = treeCpuSeconds(this.serverPid);
    const serverDelta = server !== undefined && this.server !== undefined ? server - this.server : Number.NaN;
    this.server = server;
    const harnessNow = process.cpuUsage();
    const harness = (harnessNow.user - this.harness.user + harnessNow.system - this.harness.system) / 1e6;
    this.harness = harnessNow;
    return { server: serverDelta, database: await this.databaseDelta(), harness };
  }

  /** The backends serving the server's database (a backend born in the window counts whole). */
  private async databaseDelta(): Promise<number> {
    const { rows } = await this.client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [this.database],
    );
    const next = new Map<number, number>();
    let delta = 0;
    for (const { pid } of rows) {
      const now = processCpuSeconds(pid);
      if (now === undefined) continue;
      delta += now - (this.backends.get(pid) ?? 0);
      next.set(pid, now);
    }
    this.backends = next;
    return delta;
  }
}
