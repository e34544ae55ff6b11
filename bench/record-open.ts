/**
 * Record open: GET /fhir/Patient/{id}/$everything through the real server (createApp, listening on
 * 127.0.0.1, a clinician's token from the development issuer), so every request runs JWT checks,
 * access, policy, the store read, the audit row and the commit. Load comes from autocannon in a
 * worker thread: one connection (the latency of a single user) and N connections (throughput).
 * Also timed in-process, without HTTP: the gate's everything() alone, one call at a time.
 */
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { mintUserToken, verifyDevToken, type UserPrincipal } from '../src/access/index.ts';
import { createApp, type App } from '../src/app.ts';
import type { Database } from '../src/db/index.ts';
import { benchConfig } from './ingest.ts';
import type { LoadRequest, LoadResult } from './load-worker.ts';
import { summarise, type LatencySummary } from './stats.ts';

/**
 * The viewer: a clinician (R8000) at an organisation with a legitimate relationship to the person
 * (access requires one), in practice the person's GP practice.
 */
export interface Viewer {
  token: string;
  user: UserPrincipal;
}

export interface BenchServer {
  app: App;
  baseUrl: string;
  viewer(org: string): Promise<Viewer>;
  close(): Promise<void>;
}

export async function startServer(db: Database): Promise<BenchServer> {
  const config = benchConfig();
  const app = await createApp(config, { db });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.server.address() as AddressInfo).port;
  const secret = config.devIssuerSecret!;
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    async viewer(org) {
      const token = await mintUserToken(secret, {
        user: 'bench-clinician',
        org,
        role: 'R8000',
        ttlSeconds: 4 * 3600,
      });
      const user = await verifyDevToken(secret, token);
      if (user.kind !== 'user') throw new Error('expected a user token');
      return { token, user };
    },
    close: () => app.server.close(),
  };
}

export interface LoadRun {
  connections: number;
  latency: LatencySummary;
  perSecond: number;
  non2xx: number;
  errors: number;
}

export interface RecordOpenRun {
  /** entries in the Bundle (the person's visible items) and its size */
  items: number;
  bytes: number;
  gate: LatencySummary;
  loads: LoadRun[];
}

/** Worker threads do not inherit `--import tsx`: the worker registers tsx, then loads the module. */
const WORKER_BOOT = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(
  new URL('./load-worker.ts', import.meta.url).href,
)}); });`;

function load(req: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_BOOT, { eval: true, workerData: req });
    const watchdog = setTimeout(
      () => {
        void worker.terminate();
        reject(new Error(`the HTTP load did not finish within ${req.duration + 120} s`));
      },
      (req.duration + 120) * 1000,
    );
    worker.once('message', (m: LoadResult) => {
      clearTimeout(watchdog);
      resolve(m);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with ${code}`));
    });
  });
}

export async function recordOpen(
  server: BenchServer,
  viewer: Viewer,
  personId: string,
  opts: { duration: number; connections: number; gateIterations: number; loopMs: number },
): Promise<RecordOpenRun> {
  const url = `${server.baseUrl}/fhir/Patient/${personId}/$everything`;
  let items = 0;
  let bytes = 0;
  // warm-up: at least 20 requests and 2 s, so that the measured runs see optimised code
  const warmUntil = performance.now() + 2000;
  for (let i = 0; i < 20 || performance.now() < warmUntil; i++) {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${viewer.token}` },
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`record open answered ${res.status}: ${text.slice(0, 300)}`);
    items = Number(/"total":(\d+)/.exec(text)?.[1] ?? Number.NaN);
    bytes = Buffer.byteLength(text);
  }

  const gateTimes: number[] = [];
  const until = performance.now() + opts.loopMs;
  for (let i = 0; i < opts.gateIterations && performance.now() < until; i++) {
    const t = performance.now();
    await server.app.services.gate.everything({ user: viewer.user }, personId);
    gateTimes.push(performance.now() - t);
  }

  const loads: LoadRun[] = [];
  for (const connections of [...new Set([1, opts.connections])]) {
    const r = await load({ url, token: viewer.token, connections, duration: opts.duration });
    loads.push({
      connections,
      latency: summarise(r.latencies),
      perSecond: r.latencies.length / r.seconds,
      non2xx: r.non2xx,
      errors: r.errors,
    });
  }
  return { items, bytes, gate: summarise(gateTimes), loads };
}
