/**
 * `sharedcare backup DIR` and `sharedcare restore DIR` as an operator runs them (child processes,
 * an embedded data folder of its own): a backup taken through the admin API while `sharedcare
 * serve` holds the folder, restored into an empty place, where `audit verify` passes and the
 * record opens with the same items as before; and the refusals that change nothing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { mintSourceToken, mintUserToken } from '../src/access/index.ts';
import { createApp } from '../src/app.ts';
import { openDatabase } from '../src/db/index.ts';
import { upsertOrganisation, upsertSource } from '../src/region/index.ts';
import { bundle, condition, HYPERTENSION, NHS_A, observation, patient } from './fhir-data.ts';
import { testConfig } from './kit.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const BY = ['--by', 'ops.one', '--org', 'Y90001'];

let work: string;
let env: NodeJS.ProcessEnv;
const dataDir = () => path.join(work, 'data');
const restoredDir = () => path.join(work, 'restored');
const backupDir = () => path.join(work, 'backup');

function sharedcare(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...env, ...extraEnv }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** The items (search mode 'match') a clinician at the GP practice sees when opening the person's record, by id. */
async function openRecord(base: string, personId: string): Promise<string[]> {
  const token = await mintUserToken(testConfig().devIssuerSecret!, {
    user: 'dr.reader',
    org: 'Y90001',
    role: 'R8000',
  });
  const res = await fetch(`${base}/fhir/Patient/${personId}/$everything`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  const b = (await res.json()) as Bundle;
  return (b.entry ?? [])
    .filter((e) => e.search?.mode === 'match')
    .map((e) => `${e.resource!.resourceType}/${e.resource!.id}`)
    .sort();
}

async function startServer(dir: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--mllp-port', '0'], {
    cwd: ROOT,
    env: { ...env, SHAREDCARE_DATA_DIR: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited early: ${err}`);
    if (
      await fetch(`${base}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, base };
    if (Date.now() > deadline) throw new Error(`serve did not get ready: ${err}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

let personId: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-backup-'));
  env = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', SHAREDCARE_DATA_DIR: dataDir() };
  for (const k of [
    'DATABASE_URL',
    'SHAREDCARE_CONFIG',
    'SHAREDCARE_AUDIT_KEY_FILE',
    'SHAREDCARE_AUDIT_CHECKPOINT_DIR',
  ])
    delete env[k];
  // a GP practice that sends one person's record, loaded through the real ingest path
  const db = await openDatabase({ dataDir: dataDir() });
  await db.transaction(async (tx) => {
    await upsertOrganisation(tx, {
      ods: 'Y90001',
      name: 'Riverside Surgery',
      kind: 'gp',
      contributes: true,
      views: true,
    });
    await upsertSource(tx, { id: 'gp-riverside', org: 'Y90001', kind: 'fhir' });
  });
  const config = testConfig({ dataDir: dataDir() });
  const app = await createApp(config, { db });
  const res = await app.server.inject({
    method: 'POST',
    url: '/ingest/fhir',
    headers: {
      authorization: `Bearer ${await mintSourceToken(config.devIssuerSecret!, 'gp-riverside')}`,
      'content-type': 'application/fhir+json',
    },
    payload: JSON.stringify(
      bundle('transaction', [
        patient('p1', NHS_A),
        condition('c1', 'Patient/p1', HYPERTENSION),
        observation('o1', 'Patient/p1', 48),
        observation('o2', 'Patient/p1', 52, '2023-01-10'),
      ]),
    ),
  });
  expect(res.statusCode, res.body).toBe(200);
  personId = (await db.query<{ id: string }>('SELECT id FROM person WHERE nhs_number = $1', [NHS_A])).rows[0]!
    .id;
  await app.close();
  await db.close();
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sharedcare backup and restore (embedded database)', () => {
  let before: string[];

  it('takes a backup through the running server, then restores it into an empty place', async () => {
    const server = await startServer(dataDir());
    try {
      before = await openRecord(server.base, personId);
      expect(before.map((i) => i.split('/')[0])).toEqual(['Condition', 'Observation', 'Observation']);
      const b = await sharedcare(['backup', backupDir(), ...BY]);
      expect(b.code, b.stderr).toBe(0);
      expect(b.stdout).toMatch(/^Backed up the embedded database to /);
      // the server kept serving while the copy was taken
      expect(await openRecord(server.base, personId)).toEqual(before);
    } finally {
      await stop(server.child);
    }
    expect(readdirSync(backupDir()).sort()).toEqual(['manifest.json', 'pgdata.tar.gz']);
    const manifest = JSON.parse(readFileSync(path.join(backupDir(), 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      format: 'sharedcare-pglite-backup/1',
      takenBy: 'ops.one',
      takenByOrg: 'Y90001',
    });

    const r = await sharedcare(['restore', backupDir(), ...BY], { SHAREDCARE_DATA_DIR: restoredDir() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Restored the copy taken at /);
  }, 240_000);

  it('the restored audit trail verifies, and records the backup and the restore with who did them', async () => {
    const v = await sharedcare(['audit', 'verify'], { SHAREDCARE_DATA_DIR: restoredDir() });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toMatch(/^Audit chain intact: \d+ events verified\.$/);
    const db = await openDatabase({ dataDir: restoredDir() });
    try {
      const { rows } = await db.query<{ action: string; user_id: string; user_org: string }>(
        `SELECT action, user_id, user_org FROM audit_event WHERE action LIKE 'backup.%' ORDER BY seq`,
      );
      expect(rows).toEqual([
        { action: 'backup.take', user_id: 'ops.one', user_org: 'Y90001' },
        { action: 'backup.restore', user_id: 'ops.one', user_org: 'Y90001' },
      ]);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('a record opened on the restored database shows the same items as before', async () => {
    const server = await startServer(restoredDir());
    try {
      expect(await openRecord(server.base, personId)).toEqual(before);
    } finally {
      await stop(server.child);
    }
  }, 120_000);

  it('refuses, saying what to fix and changing nothing: a folder in use, a damaged copy, PostgreSQL', async () => {
    // a backup into a folder that is not empty
    const full = await sharedcare(['backup', backupDir(), ...BY]);
    expect(full.code).not.toBe(0);
    expect(full.stderr).toContain('is not empty: give a new or empty folder');
    // a restore over a data folder that holds a database
    const over = await sharedcare(['restore', backupDir(), ...BY], { SHAREDCARE_DATA_DIR: restoredDir() });
    expect(over.code).not.toBe(0);
    expect(over.stderr).toContain('is not empty: restore into an empty place');
    // a damaged copy
    const damaged = path.join(work, 'damaged');
    cpSync(backupDir(), damaged, { recursive: true });
    const tar = readFileSync(path.join(damaged, 'pgdata.tar.gz'));
    const at = tar.length >> 1;
    tar.writeUInt8(tar.readUInt8(at) ^ 0xff, at);
    writeFileSync(path.join(damaged, 'pgdata.tar.gz'), tar);
    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    const bad = await sharedcare(['restore', damaged, ...BY], { SHAREDCARE_DATA_DIR: empty });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('the backup is damaged');
    expect(readdirSync(empty)).toEqual([]);
    // without --by / --org
    const anon = await sharedcare(['backup', path.join(work, 'anon')]);
    expect(anon.stderr).toContain('say who is doing it');
    expect(existsSync(path.join(work, 'anon'))).toBe(false);
    // PostgreSQL is backed up with its own tools
    const pg = await sharedcare(['backup', path.join(work, 'pg'), ...BY], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    });
    expect(pg.stderr).toContain('pg_basebackup');
  }, 120_000);
});
