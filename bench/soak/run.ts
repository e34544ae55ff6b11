/**
 * One soak run: a PostgreSQL database of its own (created and dropped here), a synthetic region
 * loaded through the real ingest path, `sharedcare serve` started as a child process on it (the
 * memory measured is that server's alone), the open-loop mix (mix.ts) for the given minutes with a
 * sample every 10 s (sample.ts), then the verdict (verdict.ts). Everything it started is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DPO_ROLE, mintSourceToken, mintUserToken } from '../../src/access/index.ts';
import { workerEnvironment } from '../../src/cli/workers.ts';
import { openDatabase } from '../../src/db/index.ts';
import { generatePerson, getDefaultNow, regionSpec, DEFAULT_SEED } from '../../src/generate/index.ts';
import { createBenchDatabase } from '../databases.ts';
import { benchConfig, ingestRegion } from '../ingest.ts';
import { generateRegion } from '../region.ts';
import { int, note } from '../stats.ts';
import { httpGet } from './http-get.ts';
import { Recorder, startLoad, type StreamSpec } from './load.ts';
import { buildMix, hospitalPatients, type OpenTarget, type SoakRates } from './mix.ts';
import { CpuMeter } from './cpu.ts';
import { auditedOpens, OPEN_OPS, takeSample, type Sample } from './sample.ts';
import { BackendWaits, MachineMeter } from './waits.ts';
import { waitsText } from './report.ts';
import { judge, type Verdict } from './verdict.ts';

/**
 * Clinicians per GP practice; every open and search is made by one of its practice's clinicians
 * at random. Until 2026-12-06 one clinician per practice made every open (about 33 a second
 * each), then 20 per practice, each tied to a fixed share of its patients (60 users for 100
 * opens a second, 1.7 opens a second each). No real user works like that: each was always past
 * the audit trail's many-records threshold (25 persons in 15 minutes), and its count read 500 of
 * that user's events on every open, the database's CPU rising through the run as the users'
 * windows filled. A region serving 100 opens a second has thousands of clinicians at work; with
 * 1,000 per practice each opens about one record every 30 s.
 */
export const CLINICIANS_PER_PRACTICE = 1000;

export interface SoakOptions {
  minutes: number;
  rates: SoakRates;
  /** persons loaded before the load starts */
  persons: number;
  adminUrl: string;
  /**
   * server processes (`serve --workers`); default 1, so that the memory sampled (RSS of the pid,
   * heap from /metrics, which each process answers for itself) is one process's
   */
  workers?: number;
  sampleSeconds?: number;
  seed?: number;
  /** clinicians per GP practice (default CLINICIANS_PER_PRACTICE); each one's token is warmed up first */
  clinicians?: number;
}

export interface SoakResult {
  samples: Sample[];
  verdict: Verdict;
  seconds: number;
  totals: Record<string, number>;
  errors: Record<string, number>;
  setup: { persons: number; resources: number; targets: number; heavyTargets: number; loadSeconds: number };
}

const root = path.resolve(import.meta.dirname, '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * The server's configuration for the soak: every day a working day from 00:00 to 23:59 for the
 * audit trail's out-of-hours rule. The soak's rates are a working day's peak, and it runs whenever
 * someone starts it: run on a Sunday morning, with the rule at its real hours, nearly every open
 * was the first of its (clinician, person) pair out of hours and wrote an alert in a transaction
 * of its own, so the same command measured a different server on a weekday afternoon.
 */
function workingDayConfig(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'soak-config.json');
  const outOfHours = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' };
  writeFileSync(file, JSON.stringify({ audit: { alerts: { outOfHours } } }));
  return file;
}

/** `sharedcare serve` on the soak's database; resolves once /ready answers 200. */
async function startServer(
  databaseUrl: string,
  dataDir: string,
  workers: number,
): Promise<{ child: ChildProcess; baseUrl: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      // SOAK_NODE_ARGS: Node options for the server alone, e.g. --cpu-prof --cpu-prof-dir=DIR
      ...(process.env.SOAK_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      path.join(root, 'bin', 'sharedcare.js'),
      'serve',
      ...['--port', String(port), '--mllp-port', '0', '--workers', String(workers)],
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        SHAREDCARE_DATA_DIR: dataDir,
        SHAREDCARE_CONFIG: workingDayConfig(dataDir),
        LOG_LEVEL: 'warn',
        // glibc's arenas capped, as docs/operations.md says to run a server process (serve's own
        // workers get it from their primary; a single process takes it from its environment)
        ...workerEnvironment(),
      },
      // SOAK_SERVER_STDOUT=FILE keeps the server's standard output (with SOAK_NODE_ARGS=--trace-gc, its GCs)
      stdio: [
        'ignore',
        process.env.SOAK_SERVER_STDOUT ? openSync(process.env.SOAK_SERVER_STDOUT, 'w') : 'ignore',
        'pipe',
      ],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${stderr}`);
    const ok = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, baseUrl };
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`the server was not ready within 120 s: ${stderr}`);
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Typical and heavy persons among the loaded ones, each opened by a clinician at their GP practice. */
async function openTargets(
  client: pg.Client,
  persons: number,
  seed: number,
  now: Date,
  secret: string,
  clinicianCount: number,
): Promise<OpenTarget[]> {
  const spec = regionSpec();
  const gpOrg = new Map(
    spec.sources
      .filter((s) => spec.organisations.find((o) => o.ods === s.org)?.kind === 'gp')
      .map((s) => [s.id, s.org]),
  );
  const chosen: { nhs: string; org: string; heavy: boolean }[] = [];
  for (let i = 0; i < persons; i++) {
    const p = generatePerson(spec, i, seed, now);
    const org = [...p.bySource.keys()].map((id) => gpOrg.get(id)).find((o) => o !== undefined);
    if (org) chosen.push({ nhs: p.nhsNumber, org, heavy: p.heavy });
  }
  const { rows } = await client.query<{ id: string; nhs_number: string }>(
    'SELECT id, nhs_number FROM person WHERE nhs_number = ANY($1)',
    [chosen.map((c) => c.nhs)],
  );
  const idOf = new Map(rows.map((r) => [r.nhs_number, r.id]));
  const clinicians = new Map<string, string[]>();
  for (const org of new Set(chosen.map((c) => c.org))) {
    const tokens: string[] = [];
    for (let i = 0; i < clinicianCount; i++)
      tokens.push(
        await mintUserToken(secret, {
          user: `soak-clinician-${org}-${i}`,
          org,
          role: 'R8000',
          ttlSeconds: 6 * 3600,
        }),
      );
    clinicians.set(org, tokens);
  }
  const out: OpenTarget[] = [];
  for (const c of chosen) {
    const personId = idOf.get(c.nhs);
    if (personId)
      out.push({ personId, nhsNumber: c.nhs, clinicians: clinicians.get(c.org)!, heavy: c.heavy });
  }
  return out;
}

/**
 * A server just started runs its first requests through cold code (and opens its pool's
 * connections, and starts the PDF reader's thread): a few of every kind of request, one at a
 * time, before the load. Only opens and searches were warmed until 2026-12-06, and every run's
 * first 10 s then had open p50 of 0.6–1 s at 50 opens/s while intake, HL7 v2, heavy opens and
 * the DPO report ran for the first time; that one window was enough to fail the run's p99. The
 * audit events of the warm-up are left out of the count that follows.
 */
const WARM_UP: Record<string, number> = {
  open: 30,
  search: 30,
  'open-heavy': 3,
  intake: 3,
  hl7v2: 20,
  'dpo-report': 2,
};

async function warmUp(streams: StreamSpec[], targets: OpenTarget[], baseUrl: string): Promise<void> {
  for (const s of streams)
    for (let i = 0; i < (WARM_UP[s.op] ?? 0); i++) {
      const job = s.next();
      if (job) await job.run(AbortSignal.timeout(60_000)).catch(() => undefined);
    }
  // then rounds of opens at once, so that the server's pool has its connections (each a new
  // database backend, its caches cold) before the load rather than in its first seconds
  const opens = streams.find((s) => s.op === 'open');
  for (let round = 0; round < 5 && opens; round++)
    await Promise.all(
      Array.from({ length: 12 }, () =>
        opens
          .next()
          ?.run(AbortSignal.timeout(60_000))
          .catch(() => undefined),
      ),
    );
  // and every clinician's first request (their token checked in full, then remembered until it
  // expires), 12 at a time: a server in service has seen its users' tokens; without this the
  // 3,000 first checks fell in the load's first 30 s (server CPU 8.5-8.9 s per 10 s against 5.5-6)
  const firsts = [...new Map(targets.map((t) => [t.clinicians, t])).values()].flatMap((t) =>
    t.clinicians.map((token) => ({ token, personId: t.personId })),
  );
  const search = (f: { token: string; personId: string }) =>
    httpGet(`${baseUrl}/fhir/AllergyIntolerance?patient=${f.personId}`, f.token, AbortSignal.timeout(60_000));
  for (let i = 0; i < firsts.length; i += 12)
    await Promise.all(firsts.slice(i, i + 12).map((f) => search(f).catch(() => undefined)));
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const seed = o.seed ?? DEFAULT_SEED;
  const now = getDefaultNow();
  const secret = benchConfig().devIssuerSecret!;
  const work = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-soak-'));
  const bench = await createBenchDatabase(o.adminUrl, `soak_${Date.now()}_${process.pid}`);
  const client = new pg.Client({ connectionString: bench.url });
  let child: ChildProcess | undefined;
  try {
    note(`soak: database ${bench.name}; generating and loading ${o.persons} persons`);
    const t0 = performance.now();
    const region = await generateRegion(path.join(work, 'region'), o.persons, seed, now, false);
    const db = await openDatabase({ databaseUrl: bench.url });
    const loaded = await ingestRegion(db, region, 2000, 'soak set-up').finally(() => db.close());
    if (loaded.failedRequests > 0) throw new Error(`set-up load failed: ${loaded.firstFailure}`);
    const loadSeconds = (performance.now() - t0) / 1000;
    await client.connect();
    // a store in service has its planner statistics and has been vacuumed; one loaded a moment ago
    // has neither until autovacuum comes round (a minute or so), and the first minute of opens then
    // ran on plans for empty tables beside autovacuum's work (p50 of seconds at 50 opens/s, 2026-12-06)
    await client.query('VACUUM ANALYZE');
    const targets = await openTargets(
      client,
      o.persons,
      seed,
      now,
      secret,
      o.clinicians ?? CLINICIANS_PER_PRACTICE,
    );
    if (targets.filter((t) => !t.heavy).length === 0) throw new Error('no typical person to open');
    note(
      `soak: ${int(loaded.resources)} resources loaded in ${loadSeconds.toFixed(0)} s; ${targets.length} persons to open`,
    );

    const server = await startServer(bench.url, path.join(work, 'data'), o.workers ?? 1);
    child = server.child;
    // SOAK_TRACE=FILE: one line per request as it ends (wall clock ms, operation, latency ms, outcome)
    const trace = process.env.SOAK_TRACE ? createWriteStream(process.env.SOAK_TRACE) : undefined;
    const recorder = new Recorder(trace && ((line) => void trace.write(line)));
    const streams = await buildMix({
      baseUrl: server.baseUrl,
      targets,
      intakeFrom: o.persons,
      seed,
      now,
      sourceToken: (id) => mintSourceToken(secret, id, 6 * 3600),
      dpoToken: await mintUserToken(secret, {
        user: 'soak-dpo',
        org: 'Y90001',
        role: DPO_ROLE,
        ttlSeconds: 6 * 3600,
      }),
      feedPersons: hospitalPatients(o.persons, seed, now),
      rates: o.rates,
      // the warm-up sends none of these; a little more than the run, so that no stream runs dry
      seconds: o.minutes * 60 + 30,
    });
    note(`soak: server ${server.baseUrl} (pid ${child.pid}); warm-up, then load for ${o.minutes} min`);
    await warmUp(streams, targets, server.baseUrl);
    const audited = auditedOpens(client);
    const auditBase = await audited();
    const auditSince = async () => (await audited()) - auditBase;

    const samples: Sample[] = [];
    const every = (o.sampleSeconds ?? 10) * 1000;
    const started = performance.now();
    const meter = await CpuMeter.start(server.child.pid, client, bench.name);
    const machine = new MachineMeter();
    const waits = new BackendWaits(client, bench.name).start();
    const load = startLoad(streams, recorder);
    const end = started + o.minutes * 60_000;
    while (performance.now() < end) {
      await new Promise((r) =>
        setTimeout(r, Math.min(every - ((performance.now() - started) % every), end - performance.now())),
      );
      const s = await takeSample(
        (performance.now() - started) / 1000,
        recorder,
        server.baseUrl,
        client,
        bench.name,
        auditSince,
        server.child.pid,
      );
      s.cpu = await meter.window();
      const m = machine.window();
      if (m) s.machine = m;
      const w = waits.take();
      if (w) s.waits = w;
      samples.push(s);
      const open = s.ops.open;
      note(
        `  t=${s.t.toFixed(0)} s open ${open?.served ?? 0} p50 ${open?.p50.toFixed(1) ?? '–'} p99 ${open?.p99.toFixed(1) ?? '–'} ms; ` +
          `errors ${Object.values(s.errors).reduce((a, b) => a + b, 0)}; harness lag p99 ${s.harnessLagP99.toFixed(0)}, server loop max ${s.serverLoopMaxMs.toFixed(0)} ms; RSS ${s.rssMiB.toFixed(0)} heap ${s.heapUsedMiB.toFixed(0)} MiB` +
          `${s.afterGc ? ` (${s.afterGc.heapUsedMiB.toFixed(0)} after full GC ${s.afterGc.collections})` : ''}; ` +
          `db ${s.dbConnections}; audit ${s.auditOpens}/${s.opensServed}; ` +
          `CPU s server ${s.cpu.server.toFixed(1)} db ${s.cpu.database.toFixed(1)} harness ${s.cpu.harness.toFixed(1)}` +
          (s.machine ? `; machine ${s.machine.busy.toFixed(0)} % busy` : '') +
          (s.waits ? `; backends ${waitsText(s.waits)}` : ''),
      );
    }
    waits.stop();
    const seconds = (performance.now() - started) / 1000;
    await load.stop();
    trace?.end();
    const opensServed = OPEN_OPS.reduce((s, op) => s + (recorder.totalServed.get(op) ?? 0), 0);
    const errors = Object.fromEntries(recorder.totalErrors);
    const verdict = judge({
      samples,
      openLatencies: recorder.allLatencies.get('open') ?? [],
      seconds,
      targetOpensPerSecond: o.rates.opens,
      errors,
      auditOpens: await auditSince(),
      opensServed,
    });
    return {
      samples,
      verdict,
      seconds,
      totals: Object.fromEntries(recorder.totalServed),
      errors,
      setup: {
        persons: o.persons,
        resources: loaded.resources,
        targets: targets.length,
        heavyTargets: targets.filter((t) => t.heavy).length,
        loadSeconds,
      },
    };
  } finally {
    if (child) await stopServer(child);
    await client.end().catch(() => undefined);
    await bench.drop().catch((err: Error) => note(`could not drop ${bench.name}: ${err.message}`));
    rmSync(work, { recursive: true, force: true });
  }
}
