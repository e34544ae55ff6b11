/** What one benchmark run collects, and the machine it ran on. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { SqlRun } from './bare-sql.ts';
import type { IngestRun } from './ingest.ts';
import type { CopyRun } from './raw-copy.ts';
import type { RecordOpenRun } from './record-open.ts';

export type DbLabel = 'PostgreSQL' | 'PGlite';

export interface Machine {
  cores: number;
  cpu: string;
  memGiB: number;
  node: string;
  postgres: string | undefined;
  pglite: string;
  /** 1-minute load average sampled every 10 s during the run: mean and max (other work on the box) */
  load: { mean: number; max: number };
}

export interface IngestRow {
  db: DbLabel;
  persons: number;
  run: IngestRun;
  copy: CopyRun | undefined;
  /** CPU per entry, where it was measured (the Synthea run): what bounds ingest on few cores */
  cpu?: IngestCpu;
}

/** µs of CPU per ingested entry (this process; the database's backends) and per COPY row (its backend). */
export interface IngestCpu {
  nodeUs: number;
  nodeSystemUs: number;
  pgUs: number;
  copyPgUs: number | undefined;
}

export interface OpenRow {
  db: DbLabel;
  region: string;
  person: string;
  run: RecordOpenRun;
}

export interface BareSqlRow {
  db: DbLabel;
  region: string;
  person: string;
  run: SqlRun;
}

/** Samples the 1-minute load average every 10 s until stop() is called. */
export function sampleLoad(): { stop(): { mean: number; max: number } } {
  const samples = [os.loadavg()[0] ?? 0];
  const timer = setInterval(() => samples.push(os.loadavg()[0] ?? 0), 10_000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return { mean: samples.reduce((a, b) => a + b, 0) / samples.length, max: Math.max(...samples) };
    },
  };
}

export function describeMachine(
  postgres: string | undefined,
  pglite: string,
  load: { mean: number; max: number },
): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    /* not Linux */
  }
  return {
    cores: os.availableParallelism(),
    cpu,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    pglite,
    load,
  };
}
