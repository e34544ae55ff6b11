/**
 * Two things a sample window needs to explain a backlog, which the soak's own CPU columns (the
 * server, its backends, the harness) cannot: how busy the whole machine was (other processes,
 * the kernel, PostgreSQL's own background processes, and a hypervisor taking the CPU: steal), and
 * what the server's database backends were waiting on (a lock, the WAL, the disk, the server
 * itself, or nothing: running). A soak on 2026-12-07 fell into an 80-second backlog with its
 * counted processes using no more CPU than at steady state, and nothing on record could say why.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';

/** The machine's CPU in a window, as shares of all its cores' time (%). */
export interface MachineCpu {
  busy: number;
  iowait: number;
  steal: number;
}

/** The aggregate `cpu` line of /proc/stat: jiffies by state since boot. */
export function parseProcStat(text: string): { busy: number; idle: number; iowait: number; steal: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number) as [number, number, number, number, number, number, number, number];
  return { busy: user + nice + system + irq + softirq, idle, iowait, steal: steal ?? 0 };
}

/** The machine's CPU over each window (Linux; undefined where /proc/stat cannot be read). */
export class MachineMeter {
  private last = MachineMeter.read();

  private static read() {
    try {
      return parseProcStat(readFileSync('/proc/stat', 'utf8'));
    } catch {
      return undefined;
    }
  }

  window(): MachineCpu | undefined {
    const now = MachineMeter.read();
    const before = this.last;
    this.last = now;
    if (!now || !before) return undefined;
    const d = {
      busy: now.busy - before.busy,
      idle: now.idle - before.idle,
      iowait: now.iowait - before.iowait,
      steal: now.steal - before.steal,
    };
    const all = d.busy + d.idle + d.iowait + d.steal;
    if (all <= 0) return undefined;
    const pct = (v: number) => (100 * v) / all;
    return { busy: pct(d.busy), iowait: pct(d.iowait), steal: pct(d.steal) };
  }
}

/** What a backend is doing, as pg_stat_activity says it. */
export interface BackendState {
  state: string | null;
  wait_event_type: string | null;
}

/** The kinds of waiting the report shows, in its order; anything else counts as `other`. */
export const WAIT_KINDS = ['running', 'Lock', 'LWLock', 'IO', 'Client', 'other'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

/**
 * A busy backend's kind of wait: `running` (active, waiting on nothing: on a core or in its run
 * queue), a heavyweight `Lock` (rows, advisory locks), an `LWLock` (WAL insertion and writing,
 * buffers), `IO` (data files, WAL sync), `Client` (the server has not sent the next statement of
 * an open transaction yet). Idle backends are not busy and are not counted.
 */
export function waitKind(b: BackendState): WaitKind | undefined {
  if (b.state !== 'active' && b.state !== 'idle in transaction') return undefined;
  if (b.wait_event_type === null) return 'running';
  return (WAIT_KINDS as readonly string[]).includes(b.wait_event_type)
    ? (b.wait_event_type as WaitKind)
    : 'other';
}

/**
 * Samples the server's backends every `everyMs` in the background; each window reports the mean
 * number of backends in each kind of wait (so 2.5 LWLock: two or three backends waiting on the WAL
 * at any moment of the window).
 */
export class BackendWaits {
  private counts = new Map<WaitKind, number>();
  private snapshots = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly client: pg.Client,
    private readonly database: string,
    private readonly everyMs = 500,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.snapshot(), this.everyMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async snapshot(): Promise<void> {
    if (this.busy) return; // the last one has not come back: skip rather than queue
    this.busy = true;
    try {
      const { rows } = await this.client.query<BackendState>(
        `SELECT state, wait_event_type FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [this.database],
      );
      this.add(rows);
    } catch {
      // a missed snapshot only thins the window
    } finally {
      this.busy = false;
    }
  }

  add(rows: BackendState[]): void {
    this.snapshots++;
    for (const r of rows) {
      const k = waitKind(r);
      if (k) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    }
  }

  /** The window's mean backends by kind of wait, and a new window. */
  take(): Record<WaitKind, number> | undefined {
    const n = this.snapshots;
    const out = Object.fromEntries(WAIT_KINDS.map((k) => [k, n ? (this.counts.get(k) ?? 0) / n : 0]));
    this.counts.clear();
    this.snapshots = 0;
    return n ? (out as Record<WaitKind, number>) : undefined;
  }
}
