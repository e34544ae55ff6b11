/**
 * The PostgreSQL backup procedure of docs/operations.md, run as a restore drill on a server of the
 * test's own: WAL archived, a compressed base backup taken while Sharedcare writes, a named restore
 * point, then a mistake; recovery from the base backup and the archive to the restore point gives a
 * database where `sharedcare audit verify` passes and the record opens with exactly the items it
 * had at that point (including what arrived after the base backup, replayed from the archive, and
 * not the mistake). Recovery with no target replays to the end of the archive.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import { openDatabase, type Database } from '../src/db/index.ts';
import { bundle, condition, HYPERTENSION, NHS_A, observation, patient } from './fhir-data.ts';
import { appHandle, registerRiverside, testConfig } from './kit.ts';
import { everything, postFhir } from './http.ts';
import { clustersUnavailable, type PgNode } from './pg-cluster.ts';
import { PgServer } from './pg-server.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const unavailable = clustersUnavailable();
if (unavailable) console.warn(`[backup drill] skipped: ${unavailable}`);

const config = testConfig();

/** Sharedcare in this process on one database: sends bundles as the GP practice, opens as a GP. */
async function sharedcareOn(url: string): Promise<{ app: App; db: Database }> {
  const db = await openDatabase({ databaseUrl: url });
  return { db, app: await createApp(config, { db }) };
}

async function send(app: App, entries: object[]): Promise<void> {
  const res = await postFhir(appHandle(app, config), 'gp-riverside', bundle('transaction', entries as never));
  expect(res.status, res.text).toBe(200);
}

/** What a GP at the practice is served when opening the person's record (by type/id). */
async function open(app: App, personId: string): Promise<string[]> {
  const res = await everything(appHandle(app, config), personId);
  expect(res.status).toBe(200);
  return res.items.map((r) => `${r.resourceType}/${r.id}`).sort();
}

function auditVerify(url: string, dataDir: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: url,
    SHAREDCARE_DATA_DIR: dataDir,
  };
  for (const k of ['SHAREDCARE_CONFIG', 'SHAREDCARE_AUDIT_KEY_FILE', 'SHAREDCARE_AUDIT_CHECKPOINT_DIR'])
    delete env[k];
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [BIN, 'audit', 'verify'],
      { cwd: ROOT, env, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

describe.skipIf(unavailable !== undefined)(
  'PostgreSQL base backup and point-in-time recovery (restore drill)',
  () => {
    let cluster: PgServer;
    let primary: PgNode;
    let backup: string;
    let personId: string;
    let atRestorePoint: string[];
    let atEnd: string[];
    let work: string;

    beforeAll(async () => {
      work = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-pitr-cli-'));
      ({ cluster, node: primary } = await PgServer.create());
      const admin = new pg.Client({ connectionString: cluster.url(primary) });
      await admin.connect();
      await admin.query('CREATE DATABASE sharedcare');
      await admin.end();
      const { app, db } = await sharedcareOn(cluster.url(primary, 'sharedcare'));
      try {
        await registerRiverside(db);
        await send(app, [patient('p1', NHS_A), condition('c1', 'Patient/p1', HYPERTENSION)]);
        personId = (await db.query<{ id: string }>('SELECT id FROM person')).rows[0]!.id;
        // the nightly base backup, taken while the server serves
        backup = await cluster.baseBackup(primary, 'base-backup');
        // the day's work after it: only in the archived WAL
        await send(app, [patient('p1', NHS_A), observation('o1', 'Patient/p1', 48)]);
        atRestorePoint = await open(app, personId);
        await db.query(`SELECT pg_create_restore_point('before-bulk-correction')`);
        // the mistake the region wants undone
        await send(app, [patient('p1', NHS_A), observation('o2', 'Patient/p1', 97, '2024-02-02')]);
        atEnd = await open(app, personId);
      } finally {
        await app.close();
        await db.close();
      }
      await cluster.archiveNow(primary);
    }, 240_000);
    afterAll(async () => {
      await cluster?.destroy();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('the drill wrote what it means to recover: a later item and a mistake after the restore point', () => {
      expect(atRestorePoint.map((i) => i.split('/')[0])).toEqual(['Condition', 'Observation']);
      expect(atEnd).toHaveLength(3);
    });

    it('recovers to the restore point: the audit trail verifies and the record is as it was then', async () => {
      const node = await cluster.recover(backup, { name: 'before-bulk-correction' });
      const url = cluster.url(node, 'sharedcare');
      const v = await auditVerify(url, path.join(work, 'to-point'));
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout.trim()).toMatch(/^Audit chain intact: \d+ events verified\.$/);
      const { app, db } = await sharedcareOn(url);
      try {
        expect(await open(app, personId)).toEqual(atRestorePoint);
        // the open made at the restore point is in the recovered trail; the one after it is not
        const opens = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_event WHERE action = 'record.open' AND person_id = $1`,
          [personId],
        );
        expect(opens.rows[0]!.n).toBe(2); // the drill's first open, and the one just made
      } finally {
        await app.close();
        await db.close();
      }
    }, 240_000);

    it('recovers to the end of the archive when no target is given', async () => {
      const node = await cluster.recover(backup, {});
      const url = cluster.url(node, 'sharedcare');
      const v = await auditVerify(url, path.join(work, 'to-end'));
      expect(v.code, v.stderr).toBe(0);
      const { app, db } = await sharedcareOn(url);
      try {
        expect(await open(app, personId)).toEqual(atEnd);
      } finally {
        await app.close();
        await db.close();
      }
    }, 240_000);
  },
);
