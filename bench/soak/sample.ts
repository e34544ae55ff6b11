/**
 * What the soak looks at every 10 s: latency and errors of the last window (from the recorder), the
 * server's memory from its own /metrics (prom-client's process_resident_memory_bytes and
 * nodejs_heap_size_used_bytes, and both as the last full collection left them), the database's connections from pg_stat_activity, and the audit
 * trail's record-open events against the opens the harness was served.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { GC_MEMORY_METRICS } from '../../src/api/gc-memory.ts';
import { percentile } from '../stats.ts';
import type { CpuWindow } from './cpu.ts';
import type { Recorder } from './load.ts';
import type { MachineCpu, WaitKind } from './waits.ts';

export interface OpStats {
  served: number;
  p50: number;
  p99: number;
}

export interface Sample {
  /** seconds since the load started */
  t: number;
  ops: Record<string, OpStats>;
  errors: Record<string, number>;
  /** p99 of how late the harness sent its requests (its own lag, not the server's) */
  harnessLagP99: number;
  rssMiB: number;
  heapUsedMiB: number;
  /**
   * heap used and RSS right after the server's last full collection, and how many full collections
   * it has run (src/api/gc-memory.ts): what a leak moves, whatever the sawtooth does between them
   */
  afterGc?: { heapUsedMiB: number; rssMiB: number; collections: number };
  /** the longest the server's event loop was held in the window (prom-client resets it per scrape), ms */
  serverLoopMaxMs: number;
  dbConnections: number;
  /** record.open audit events with outcome success, so far */
  auditOpens: number;
  /** opens answered 200 so far (typical and heavy) */
  opensServed: number;
  /** CPU seconds used in this window by the server, its database backends and the harness */
  cpu?: CpuWindow;
  /** the whole machine's CPU in the window (%): everything, not only the soak's processes */
  machine?: MachineCpu;
  /** the server's database backends in each kind of wait, on average over the window */
  waits?: Record<WaitKind, number>;
}

/** One value of a Prometheus text exposition (unlabelled series). */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

const MiB = 1024 * 1024;

export async function serverMemory(
  baseUrl: string,
): Promise<Pick<Sample, 'rssMiB' | 'heapUsedMiB' | 'serverLoopMaxMs' | 'afterGc'>> {
  const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const collections = metricValue(text, GC_MEMORY_METRICS.collections);
  return {
    rssMiB: metricValue(text, 'process_resident_memory_bytes') / MiB,
    heapUsedMiB: metricValue(text, 'nodejs_heap_size_used_bytes') / MiB,
    serverLoopMaxMs: metricValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
    ...(collections > 0
      ? {
          afterGc: {
            heapUsedMiB: metricValue(text, GC_MEMORY_METRICS.heapUsed) / MiB,
            rssMiB: metricValue(text, GC_MEMORY_METRICS.rss) / MiB,
            collections,
          },
        }
      : {}),
  };
}

/**
 * The server's resident memory from /proc (Linux), for when it is too busy to answer /metrics
 * within the sample's time: the RSS line of the chart then has no gap, the heap has.
 */
export function procRssMiB(pid: number | undefined): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The server's connections to its database (not this harness's own). */
export async function dbConnections(client: pg.Client, database: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [database],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Successful record.open audit events, counted as the trail grows: a full count of the trail took
 * 232 ms a call by minute 40 of a soak at 60 opens/s (pg_stat_statements), on the database it
 * measures. Events up to a watermark are counted once and kept; each call counts only those after
 * it, by the trail's primary key (`seq`). The watermark trails the newest event by `margin`
 * events, because `seq` is taken before commit: an append still in flight may hold a lower `seq`
 * than one already visible, and must not be passed over. At 100 opens/s the default margin is
 * over a minute of events, longer than the soak waits for any request
 * (REQUEST_TIMEOUT_MS in load.ts).
 */
export function auditedOpens(client: pg.Client, margin = 10_000): () => Promise<number> {
  let watermark = 0n;
  let below = 0;
  const count = async (from: bigint, to?: bigint) =>
    (
      await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_event
          WHERE seq > $1 AND ($2::bigint IS NULL OR seq <= $2) AND action = 'record.open' AND outcome = 'success'`,
        [from.toString(), to?.toString() ?? null],
      )
    ).rows[0]!.n;
  return async () => {
    const { rows } = await client.query<{ top: string | null }>(
      'SELECT max(seq)::text AS top FROM audit_event',
    );
    const next = BigInt(rows[0]?.top ?? '0') - BigInt(margin);
    if (next > watermark) {
      below += await count(watermark, next);
      watermark = next;
    }
    return below + (await count(watermark));
  };
}

export const OPEN_OPS = ['open', 'open-heavy'];

export async function takeSample(
  t: number,
  recorder: Recorder,
  baseUrl: string,
  client: pg.Client,
  database: string,
  audited: () => Promise<number>,
  pid?: number,
): Promise<Sample> {
  const w = recorder.take();
  const ops: Record<string, OpStats> = {};
  for (const [op, l] of w.latencies) {
    const sorted = l.sort((a, b) => a - b);
    ops[op] = { served: l.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  }
  const mem = await serverMemory(baseUrl).catch(() => ({
    rssMiB: procRssMiB(pid),
    heapUsedMiB: Number.NaN,
    serverLoopMaxMs: Number.NaN,
  }));
  return {
    t,
    ops,
    errors: Object.fromEntries(w.errors),
    harnessLagP99: percentile(
      w.lag.sort((a, b) => a - b),
      99,
    ),
    ...mem,
    dbConnections: await dbConnections(client, database),
    auditOpens: await audited(),
    opensServed: OPEN_OPS.reduce((s, op) => s + (recorder.totalServed.get(op) ?? 0), 0),
  };
}
