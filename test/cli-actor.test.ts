/**
 * Every CLI command that changes governance data names the person and organisation doing it
 * (`--by`, `--org`; `--by-org` for `source add`, whose `--org` is the source's) and refuses without
 * them, before opening anything. An override made from the CLI is then attributed to that
 * organisation, by name, in the notice to the person and in their subject-access report.
 * Child processes on an embedded PGlite folder of their own, as a user runs them.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, condition, HYPERTENSION, NHS_A, patient } from './fhir-data.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const ID = '6f1b8a0e-0000-4000-8000-000000000009';

let dir: string;
let env: NodeJS.ProcessEnv;
const dataDir = () => path.join(dir, 'data');

function sharedcare(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-cli-actor-'));
  env = { ...process.env, SHAREDCARE_DATA_DIR: dataDir(), NODE_ENV: 'test', LOG_LEVEL: 'silent' };
  for (const k of [
    'DATABASE_URL',
    'SHAREDCARE_CONFIG',
    'SHAREDCARE_AUDIT_CHECKPOINT_DIR',
    'SHAREDCARE_AUDIT_KEY_FILE',
  ])
    delete env[k];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI commands that change governance data name who is acting', () => {
  const changes: [string, string[], RegExp][] = [
    ['org add', ['org', 'add', '--ods', 'Y91234', '--name', 'Brookside Surgery', '--views'], /--org/],
    ['source add', ['source', 'add', '--id', 'gp-x', '--org', 'Y91234', '--kind', 'fhir'], /--by-org/],
    ['objection add', ['objection', 'add', '--nhs', NHS_A], /--org/],
    ['objection withdraw', ['objection', 'withdraw', '--id', ID], /--org/],
    [
      'objection override',
      [
        'objection',
        'override',
        '--id',
        ID,
        '--ground',
        'safeguarding',
        '--reason',
        'a reason long enough',
        '--until',
        '2030-01-01',
      ],
      /--org/,
    ],
    ['objection end-override', ['objection', 'end-override', '--id', ID], /--org/],
    [
      'opt-out set',
      ['opt-out', 'set', '--nhs', NHS_A, '--status', 'opted-out', '--source', 'national service'],
      /--org/,
    ],
    ['retention run', ['retention', 'run', '--dry-run'], /--org/],
    ['audit review', ['audit', 'review', '--id', ID, '--note', 'checked'], /--org/],
  ];

  it.each(changes)(
    '%s refuses without --by and the organisation, says what to pass, and opens nothing',
    async (_name, args, orgFlag) => {
      const r = await sharedcare(args);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /this changes governance data, so say who is doing it: pass --by <your user id> and/,
      );
      expect(r.stderr).toMatch(orgFlag);
      expect(existsSync(dataDir())).toBe(false);
    },
    120_000,
  );

  it('asks only for what is missing, and refuses an acting organisation that is not an ODS code', async () => {
    const byOnly = await sharedcare(['objection', 'add', '--nhs', NHS_A, '--by', 'admin.one']);
    expect(byOnly.code).not.toBe(0);
    expect(byOnly.stderr).toMatch(/say who is doing it: pass --org <your organisation's ODS code>/);
    const r = await sharedcare(['objection', 'add', '--nhs', NHS_A, '--by', 'admin.one', '--org', 'cli']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--org is an ODS code/);
    expect(existsSync(dataDir())).toBe(false);
  }, 60_000);

  it('attributes an override made from the CLI to the named organisation in the notice and the subject-access report', async () => {
    const admin = ['--by', 'admin.one', '--org', 'Y91234'];
    const ok = async (args: string[]) => {
      const r = await sharedcare(args);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    await ok([
      'org',
      'add',
      '--ods',
      'Y91234',
      '--name',
      'Brookside Surgery',
      '--contributes',
      '--views',
      ...admin,
    ]);
    await ok([
      'source',
      'add',
      '--id',
      'gp-brookside',
      '--org',
      'Y91234',
      '--kind',
      'fhir',
      '--by',
      'admin.one',
      '--by-org',
      'Y91234',
    ]);
    const file = path.join(dir, 'record.json');
    writeFileSync(
      file,
      JSON.stringify(
        bundle('transaction', [patient('p1', NHS_A), condition('c1', 'Patient/p1', HYPERTENSION)]),
      ),
    );
    await ok(['load', '--source', 'gp-brookside', file]);
    const objection = JSON.parse(await ok(['objection', 'add', '--nhs', NHS_A, ...admin])) as { id: string };
    const override = JSON.parse(
      await ok([
        'objection',
        'override',
        '--id',
        objection.id,
        '--ground',
        'safeguarding',
        '--reason',
        'a child protection conference needs the record',
        '--until',
        new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
        '--by',
        'jane.dpo',
        '--org',
        'Y91234',
      ]),
    ) as { notice: string; decidedBy: string; decidedOrg: string };
    expect(override).toMatchObject({ decidedBy: 'jane.dpo', decidedOrg: 'Y91234' });
    expect(override.notice).toMatch(/The decision was made by organisation Brookside Surgery \(Y91234\)/);
    expect(override.notice).not.toMatch(/CLI/);

    const report = await ok(['audit', 'subject-access', '--nhs', NHS_A, '--format', 'text']);
    expect(report).toMatch(/Brookside Surgery \(Y91234\)/);
    expect(report).not.toMatch(/CLI/);
  }, 240_000);
});
