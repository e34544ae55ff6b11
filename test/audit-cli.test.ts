/**
 * `sharedcare audit …` as a user runs it (child processes, an embedded data folder of its own):
 * checkpoint, verify, reports in each format, alerts and review, and clear refusals.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const CLI_USER = `${os.userInfo().username}@cli`;
let dataDir: string;
let env: NodeJS.ProcessEnv;

function sharedcare(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-audit-cli-'));
  env = { ...process.env, SHAREDCARE_DATA_DIR: dataDir, NODE_ENV: 'test', LOG_LEVEL: 'silent' };
  for (const k of [
    'DATABASE_URL',
    'SHAREDCARE_CONFIG',
    'SHAREDCARE_AUDIT_KEY_FILE',
    'SHAREDCARE_AUDIT_CHECKPOINT_DIR',
  ])
    delete env[k];
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('sharedcare audit (CLI)', () => {
  it('writes a signed checkpoint outside the database, then verifies against it', async () => {
    const cp = await sharedcare(['audit', 'checkpoint']);
    expect(cp.code, cp.stderr).toBe(0);
    expect(JSON.parse(cp.stdout)).toMatchObject({ n: 1, heads: 17 });
    const trail = readdirSync(path.join(dataDir, 'audit-checkpoints'));
    expect(readdirSync(path.join(dataDir, 'audit-checkpoints', trail[0]!))).toContain(
      'checkpoint-00000001.jws',
    );
    expect(readdirSync(dataDir)).toContain('audit-signing-key.jwk');

    const v = await sharedcare(['audit', 'verify']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toMatch(/^Audit chain intact: \d+ events verified\.$/);
    expect(v.stderr).toBe('');
    const json = await sharedcare(['audit', 'verify', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, checkpoints: { count: 1 } });
  }, 120_000);

  it('reports by user as CSV and as a FHIR Bundle, each run itself audited', async () => {
    const csv = await sharedcare(['audit', 'report', '--user', CLI_USER, '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^at,action,outcome,user_id/);
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual([
      'audit.checkpoint',
      'audit.verify',
      'audit.verify',
    ]);
    const fhir = JSON.parse(
      (await sharedcare(['audit', 'report', '--user', CLI_USER, '--format', 'fhir'])).stdout,
    );
    expect(fhir).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 4 });
  }, 120_000);

  it('lists alerts, and refuses bad input with a message that says what to fix', async () => {
    expect(JSON.parse((await sharedcare(['audit', 'alerts'])).stdout)).toEqual([]);
    const review = await sharedcare([
      'audit',
      'review',
      '--id',
      '6f1b8a0e-0000-4000-8000-000000000009',
      '--note',
      'x',
      '--by',
      'dpo.one',
      '--org',
      'Y90001',
    ]);
    expect(review.code).not.toBe(0);
    expect(review.stderr).toMatch(/no alert with that id/);
    const bad = await sharedcare(['audit', 'report', '--person', '1234567890']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/not a valid NHS number/);
    const format = await sharedcare(['audit', 'report', '--user', 'x', '--format', 'xml']);
    expect(format.stderr).toMatch(/--format must be one of: json, csv, fhir/);
  }, 120_000);

  it('exits 2 and names the checkpoint when a checkpoint file was deleted', async () => {
    const trail = readdirSync(path.join(dataDir, 'audit-checkpoints'))[0]!;
    rmSync(path.join(dataDir, 'audit-checkpoints', trail, 'checkpoint-00000001.jws'));
    const v = await sharedcare(['audit', 'verify']);
    expect(v.code).toBe(2);
    expect(v.stdout).toMatch(/^AUDIT CHAIN BROKEN at checkpoint 1: checkpoint 1 .*its file was deleted/);
  }, 120_000);
});
