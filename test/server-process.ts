/**
 * `sharedcare serve` as a child process, for tests that need the real process (failover, several
 * workers): a region configuration of its own, output kept for checks, stopped afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintSourceToken, mintUserToken } from '../src/access/index.ts';
import { loadConfig } from '../src/config/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const DEV_SECRET = loadConfig({}, { NODE_ENV: 'test' }).devIssuerSecret!;

/** A GP practice that contributes and views, with a FHIR and an HL7 v2 source; a hospital that views. */
export const REGION = {
  organisations: [
    { ods: 'Y90001', name: 'Riverside Surgery', kind: 'gp', contributes: true, views: true },
    { ods: 'RX1', name: 'Northgate Hospital', kind: 'acute', contributes: false, views: true },
  ],
  sources: [
    { id: 'gp-riverside', org: 'Y90001', kind: 'fhir' },
    { id: 'gp-hl7', org: 'Y90001', kind: 'hl7v2' },
  ],
};

export interface ServerProcess {
  base: string;
  child: ChildProcess;
  /** everything the process wrote (stdout and stderr) */
  output(): string;
  isRunning(): boolean;
  stop(): Promise<void>;
}

export async function startServer(opts: {
  databaseUrl: string;
  port: number;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** how long to wait for /ready (ms) */
  timeout?: number;
  /** also wait for this in the output (e.g. the line that says all worker processes listen) */
  waitFor?: RegExp;
}): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-serve-'));
  const configFile = path.join(dir, 'region.json');
  writeFileSync(configFile, JSON.stringify(REGION));
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--port',
      String(opts.port),
      '--mllp-port',
      '0',
      '--config',
      configFile,
      ...(opts.args ?? []),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        DATABASE_URL: opts.databaseUrl,
        SHAREDCARE_DATA_DIR: dir,
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  const keep = (b: Buffer) => {
    if (text.length < 8_000_000) text += b.toString('utf8');
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const base = `http://127.0.0.1:${opts.port}`;
  const server: ServerProcess = {
    base,
    child,
    output: () => text,
    isRunning: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (server.isRunning()) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(15_000)]);
        if (server.isRunning()) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (opts.timeout ?? 120_000);
  for (;;) {
    if (!server.isRunning()) {
      await server.stop();
      throw new Error(`sharedcare serve exited: ${text.slice(-2000)}`);
    }
    const ok = await fetch(`${base}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok && (!opts.waitFor || opts.waitFor.test(text))) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`sharedcare serve did not become ready: ${text.slice(-2000)}`);
    }
    await sleep(250);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const sourceToken = (id: string) => mintSourceToken(DEV_SECRET, id);
export const clinicianToken = (user: string) =>
  mintUserToken(DEV_SECRET, { user, org: 'Y90001', role: 'R8000' });
