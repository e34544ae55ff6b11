/**
 * The soak's two explanations of a slow window: how busy the whole machine was, and what the
 * server's database backends were waiting on (a backend blocked on another's lock is counted as
 * Lock, the one holding it between statements as Client), and the report's columns for both.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { soakReport } from '../bench/soak/report.ts';
import type { SoakResult } from '../bench/soak/run.ts';
import type { Sample } from '../bench/soak/sample.ts';
import { BackendWaits, MachineMeter, parseProcStat, waitKind } from '../bench/soak/waits.ts';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';

describe("the machine's CPU", () => {
  it('reads the aggregate line of /proc/stat, steal and I/O wait apart', () => {
    const stat = 'cpu  100 5 40 800 30 3 2 20 0 0\ncpu0 50 2 20 400 15 1 1 10 0 0\nintr 1 2 3\n';
    expect(parseProcStat(stat)).toEqual({ busy: 150, idle: 800, iowait: 30, steal: 20 });
  });

  it.skipIf(!existsSync('/proc/stat'))(
    'gives each window shares of all cores that add up to at most 100 %',
    async () => {
      const meter = new MachineMeter();
      const until = Date.now() + 200;
      while (Date.now() < until); // keep one core busy for a moment
      await new Promise((r) => setTimeout(r, 50));
      const w = meter.window()!;
      expect(w.busy).toBeGreaterThan(0);
      expect(w.busy + w.iowait + w.steal).toBeLessThanOrEqual(100.0001);
    },
  );
});

describe("a backend's kind of wait", () => {
  it('tells running, locks, the WAL and the client apart, and leaves idle backends out', () => {
    expect(waitKind({ state: 'active', wait_event_type: null })).toBe('running');
    expect(waitKind({ state: 'active', wait_event_type: 'Lock' })).toBe('Lock');
    expect(waitKind({ state: 'active', wait_event_type: 'LWLock' })).toBe('LWLock');
    expect(waitKind({ state: 'active', wait_event_type: 'IO' })).toBe('IO');
    expect(waitKind({ state: 'idle in transaction', wait_event_type: 'Client' })).toBe('Client');
    expect(waitKind({ state: 'active', wait_event_type: 'IPC' })).toBe('other');
    expect(waitKind({ state: 'idle', wait_event_type: 'Client' })).toBeUndefined();
  });

  it("reports each window's mean over its snapshots, then starts a new window", () => {
    const waits = new BackendWaits({} as pg.Client, 'db');
    waits.add([
      { state: 'active', wait_event_type: 'Lock' },
      { state: 'active', wait_event_type: null },
    ]);
    waits.add([{ state: 'active', wait_event_type: 'Lock' }]);
    expect(waits.take()).toMatchObject({ running: 0.5, Lock: 1, LWLock: 0, Client: 0 });
    expect(waits.take()).toBeUndefined();
  });
});

describe.skipIf(!DB_KINDS.includes('postgres'))('backends waiting on PostgreSQL, sampled', () => {
  let t: TestDatabase;
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    t = await freshDatabase('postgres', { migrated: false });
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await t.drop();
  });

  it('counts a backend blocked on a lock as Lock and the one holding it between statements as Client', async () => {
    const connect = async () => {
      const c = new pg.Client({ connectionString: t.url });
      await c.connect();
      clients.push(c);
      return c;
    };
    const [holder, blocked, sampler] = [await connect(), await connect(), await connect()];
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(4217)');
    const waiting = blocked.query('SELECT pg_advisory_xact_lock(4217)');
    const database = (await sampler.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    const waits = new BackendWaits(sampler, database, 50).start();
    await new Promise((r) => setTimeout(r, 600));
    waits.stop();
    const w = waits.take()!;
    await holder.query('COMMIT');
    await waiting;
    expect(w.Lock).toBeGreaterThan(0.8);
    expect(w.Client).toBeGreaterThan(0.8);
    expect(w.running).toBeLessThan(0.5);
  });
});

describe("the soak report's columns", () => {
  it("show each window's machine CPU and the backends' waits", () => {
    const sample: Sample = {
      t: 10,
      ops: { open: { served: 1000, p50: 12, p99: 140 } },
      errors: {},
      harnessLagP99: 15,
      rssMiB: 400,
      heapUsedMiB: 90,
      serverLoopMaxMs: 40,
      dbConnections: 10,
      auditOpens: 1000,
      opensServed: 1000,
      machine: { busy: 83.4, iowait: 1.2, steal: 0 },
      waits: { running: 3.1, Lock: 0, LWLock: 1.5, IO: 0.4, Client: 2, other: 0 },
    };
    const result: SoakResult = {
      samples: [sample],
      verdict: { pass: true, line: 'SOAK PASS' } as SoakResult['verdict'],
      seconds: 10,
      totals: { open: 1000 },
      errors: {},
      setup: { persons: 300, resources: 99_036, targets: 300, heavyTargets: 11, loadSeconds: 27 },
    };
    const text = soakReport(result, {
      command: 'npm run soak',
      postgres: '15',
      loadBefore: [0.1, 0.1, 0.1],
      loadAfter: [1, 1, 1],
      chart: 'soak.png',
    });
    expect(text).toContain(
      '| machine %: busy · I/O wait · steal | database backends waiting, mean: running · Lock · LWLock · IO · Client · other |',
    );
    expect(text).toMatch(/\| 83 · 1 · 0 \| 3\.1 · 0\.0 · 1\.5 · 0\.4 · 2\.0 · 0\.0 \|$/m);
  });
});
