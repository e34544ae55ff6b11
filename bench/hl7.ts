/**
 * `npm run bench:hl7`: HL7 v2 intake over MLLP on loopback into PostgreSQL, ACK after commit.
 *
 * The server (createApp + the MLLP listener) runs in this process; the load comes from a worker
 * thread (bench/hl7-worker.ts) over several connections with a realistic hospital mix (ADT, ORU,
 * MDM, SIU; src/generate/hl7-feed.ts). Three phases:
 *   1. throughput: as fast as the ACKs come, on `--connections` connections;
 *   2. latency: a fixed 200 messages/s, ACK latency p50/p99;
 *   3. memory: the fixed rate for `--memory-seconds`, RSS and heap sampled every 2 s, and after
 *      the first two minutes the slopes of RSS and of the heap's floor (the soak's fallback rule).
 * Options: --connections 32 --seconds 30 --rate 200 --memory-seconds 300 (or --minutes 5),
 * --messages N (each phase sends the same N messages, whatever the time: for comparing statements
 * and CPU per message between versions on a loaded machine)
 * --persons 2000, --only throughput|latency|memory (one phase), --sql-timing (each phase's
 * statements timed on the driver: which one the server waits on, and statements per message),
 * --cpu-prof (a CPU profile of the server's thread in each phase, written to hl7-<phase>.cpuprofile in the temporary folder
 * and summarised), --keep (leave the database for EXPLAIN). Each phase reports the CPU time per
 * message of this process (server and load generator) and of the database's backends. BENCH_PG_URL picks the server;
 * the database is its own, created and dropped here.
 */
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { migrate, openDatabase, type Queryable } from '../src/db/index.ts';
import { startMllpListener } from '../src/ingest/index.ts';
import { upsertOrganisation, upsertSource } from '../src/region/index.ts';
import { createBenchDatabase, postgresReachable } from './databases.ts';
import type { Hl7LoadRequest, Hl7LoadResult } from './hl7-worker.ts';
import { timeStatements, type TimedDatabase } from './sql-timing.ts';
import { ms, summarise } from './stats.ts';
import { cpuMark, cpuSince } from './process-cpu.ts';
import { profiled, summariseProfile } from './cpu-profile.ts';
import { AIMS, heapFloor, slope } from './soak/verdict.ts';

const { values: o } = parseArgs({
  options: {
    // each connection waits for its ACK, and an ACK waits for two commits (landing, then the data):
    // 4 connections cannot carry 1,000 messages/s however fast the server is (BENCHMARKS.md)
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '30' },
    rate: { type: 'string', default: '200' },
    'memory-seconds': { type: 'string', default: '300' },
    minutes: { type: 'string' },
    persons: { type: 'string', default: '2000' },
    only: { type: 'string' },
    'sql-timing': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    messages: { type: 'string', default: '0' },
  },
});
const runs = (phase: string) => !o.only || o.only === phase;
const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const version = await postgresReachable(adminUrl);
if (!version) {
  console.error(`bench:hl7 needs PostgreSQL at ${adminUrl} (set BENCH_PG_URL)`);
  process.exit(1);
}
const bench = await createBenchDatabase(adminUrl, `hl7_${Date.now()}`);
const SOURCE = 'rx1-pas';
let firstMessage = 1;

const WORKER_BOOT = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(
  new URL('./hl7-worker.ts', import.meta.url).href,
)}); });`;

function load(port: number, req: Partial<Hl7LoadRequest>): Promise<Hl7LoadResult> {
  const full: Hl7LoadRequest = {
    port,
    connections: Number(o.connections),
    seconds: Number(o.seconds),
    messages: Number(o.messages),
    rate: 0,
    persons: Number(o.persons),
    seed: 42,
    firstMessage,
    application: SOURCE,
    ...req,
  };
  firstMessage += 10_000_000;
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_BOOT, { eval: true, workerData: full });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

/**
 * Memory over the run, judged by the soak's floor rule (bench/soak/verdict.ts; the soak itself now
 * prefers the levels full collections leave, read from the server's /metrics): after the first two
 * minutes, the slope of the heap's floor (its lowest sample in each minute: the heap after
 * collection) and of RSS. A 10 s sample of heap used is wherever the collector's sawtooth was.
 */
function memoryVerdict(all: { t: number; rssMiB: number; heapUsedMiB: number }[], seconds: number): string {
  // whole minutes of load only: a last window holding the run's final sample or two has no floor
  const samples = all.filter((s) => s.t < Math.floor(seconds / 60) * 60);
  const settled = samples.filter((s) => s.t > AIMS.settleSeconds);
  const floors = heapFloor(settled);
  const heap = slope(floors);
  const rss = slope(settled.map((s) => [s.t / 60, s.rssMiB]));
  const minutes = heapFloor(samples).map(([, mib], k) => {
    const inMinute = samples.filter((s) => Math.floor(s.t / 60) === k);
    return `${Math.max(...inMinute.map((s) => s.rssMiB)).toFixed(0)}/${mib.toFixed(0)}`;
  });
  const flat = heap <= AIMS.heapSlopeMiBPerMin && rss <= AIMS.rssSlopeMiBPerMin;
  const verdict =
    floors.length < 3 ? 'not judged (fewer than 3 minutes after settling)' : flat ? 'flat' : 'NOT flat';
  return [
    `memory by minute (MiB, highest RSS / heap floor): ${minutes.join(' ')}`,
    `after the first ${AIMS.settleSeconds} s: heap floor ${heap.toFixed(2)} MiB/min (aim <= ${AIMS.heapSlopeMiBPerMin}), RSS ${rss.toFixed(2)} MiB/min (aim <= ${AIMS.rssSlopeMiBPerMin}): memory ${verdict}`,
  ].join('\n');
}

let timing: TimedDatabase | undefined;
const notes: string[] = [];

/** One phase: the load, with the CPU it cost (and its profile with --cpu-prof), then its report. */
async function phase(name: string, port: number, req: Partial<Hl7LoadRequest>, db: Queryable): Promise<void> {
  const mark = await cpuMark(db);
  const file = path.join(tmpdir(), `hl7-${name.split(' ')[0]}.cpuprofile`);
  const r = o['cpu-prof']
    ? await profiled(file, () => load(port, req)).then((p) => {
        notes.push(`${name}: CPU profile of the server thread (${file})\n${summariseProfile(p.profile, 30)}`);
        return p.value;
      })
    : await load(port, req);
  const cpu = await cpuSince(db, mark);
  notes.push(
    `${name}: CPU per message: this process ${(cpu.nodeMs / r.sent).toFixed(2)} ms (server and load generator; ${(cpu.nodeSystemMs / r.sent).toFixed(2)} of it in the kernel), PostgreSQL backends ${(cpu.pgMs / r.sent).toFixed(2)} ms; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  report(name, r);
}

function report(name: string, r: Hl7LoadResult): void {
  const s = summarise(r.latencies);
  console.log(
    `| ${name} | ${r.sent} | ${Math.round(r.sent / r.seconds)} | ${ms(s.p50)} | ${ms(s.p99)} | ${JSON.stringify(r.acks)} |`,
  );
  // the rate in each tenth of the run: does it fall as the store grows?
  const tenth = Math.max(1, Math.ceil(r.perSecond.length / 10));
  const slices = [];
  for (let i = 0; i < r.perSecond.length; i += tenth) {
    const part = r.perSecond.slice(i, i + tenth);
    slices.push(Math.round(part.reduce((a, b) => a + b, 0) / part.length));
  }
  notes.push(`${name}: messages/s through the run ${slices.join(' ')}`);
  if (timing) {
    const c = timing.counts();
    notes.push(
      `${name}: ${(c.statements / r.sent).toFixed(1)} statements and ${(c.transactions / r.sent).toFixed(2)} transactions per message (${((c.statements + 2 * c.transactions) / r.sent).toFixed(1)} round trips with BEGIN/COMMIT)`,
    );
    notes.push(`${name}: statements\n${timing.report()}`);
    timing.reset();
  }
}

try {
  const opened = await openDatabase({ databaseUrl: bench.url });
  await migrate(opened);
  timing = o['sql-timing'] ? timeStatements(opened) : undefined;
  const db = timing?.db ?? opened;
  await upsertOrganisation(db, {
    ods: 'RX1',
    name: 'Northdale General Hospital',
    kind: 'acute',
    contributes: true,
    views: true,
  });
  await upsertSource(db, { id: SOURCE, org: 'RX1', kind: 'hl7v2' });
  const config = { ...loadConfig({}, { LOG_LEVEL: 'silent' }), databaseUrl: bench.url };
  const app = await createApp(config, { db });
  const mllp = await startMllpListener(app.services.hl7, { host: '127.0.0.1', port: 0 }, app.services.log);
  console.log(
    `HL7 v2 over MLLP into PostgreSQL ${version}, ACK after commit; ${o.connections} connections\n`,
  );
  console.log(
    '| phase | messages | messages/s | ACK p50 | ACK p99 | ACKs |\n| --- | --- | --- | --- | --- | --- |',
  );
  await load(mllp.port, { seconds: 5, messages: Number(o.messages) > 0 ? 1000 : 0 }); // warm-up: JIT, pools, first persons
  // The database is new: autovacuum (a minute apart) has not yet given the planner any statistics,
  // so the prepared statements' generic plans took every table for empty and scanned clinical_item
  // and hl7_message whole on every message for the rest of the run. A store in service has them.
  await db.exec('ANALYZE');
  timing?.reset();
  if (runs('throughput')) await phase('throughput (as fast as ACKs come)', mllp.port, {}, db);
  if (runs('latency'))
    await phase(`latency at ${o.rate} messages/s`, mllp.port, { rate: Number(o.rate) }, db);

  const memorySeconds = o.minutes ? Number(o.minutes) * 60 : Number(o['memory-seconds']);
  if (memorySeconds > 0 && runs('memory')) {
    // every 2 s, so that each minute's lowest heap (its floor after collection) is well sampled
    const samples: { t: number; rssMiB: number; heapUsedMiB: number }[] = [];
    const t0 = performance.now();
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      samples.push({
        t: (performance.now() - t0) / 1000,
        rssMiB: m.rss / 2 ** 20,
        heapUsedMiB: m.heapUsed / 2 ** 20,
      });
    }, 2_000);
    await phase(
      `memory run, ${memorySeconds} s at ${o.rate}/s`,
      mllp.port,
      { rate: Number(o.rate), seconds: memorySeconds },
      db,
    );
    clearInterval(timer);
    console.log(`\n${memoryVerdict(samples, memorySeconds)}`);
  }
  console.log(`\n${notes.join('\n\n')}`);
  await mllp.close();
  await app.close();
  await db.close();
} finally {
  if (o.keep) console.log(`\nkept the database: ${bench.url}`);
  else await bench.drop();
}
