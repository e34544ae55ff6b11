/**
 * `sharedcare codes import | list | diff` and `sharedcare sensitivity review` as a region's
 * information-governance lead runs them (child processes, an embedded PGlite folder of their own):
 * first directly on the folder, then while `sharedcare serve` holds it, where an import goes through
 * the server and what the viewer's API shows changes at once, without a restart. The published lists
 * in ../shared/fixtures/sensitive-codes are imported as published (skipped, saying so, if absent).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/sensitive-codes');
const present = existsSync(FIXTURES);
if (!present)
  console.warn(`[sharedcare tests] ${FIXTURES} not found: importing the published lists is skipped.`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
let dataDir: string;
let work: string;
let env: NodeJS.ProcessEnv;
let port: number;

function sharedcare(args: string[]): Promise<Run> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const file = (name: string, text: string) => {
  const f = path.join(work, name);
  writeFileSync(f, text);
  return f;
};

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-codes-data-'));
  work = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-codes-work-'));
  port = await freePort();
  env = {
    ...process.env,
    SHAREDCARE_DATA_DIR: dataDir,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SHAREDCARE_PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
  for (const k of ['DATABASE_URL', 'SHAREDCARE_CONFIG', 'SHAREDCARE_SENSITIVE_CODES']) delete env[k];
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const ASTHMA = '195967001';

/** who puts a list in force: named in the audit trail */
const BY = ['--by', 'ig.lead', '--org', 'Y90001'];

describe('sharedcare codes and sensitivity review (child processes, embedded PGlite)', () => {
  it('imports a CSV list, reporting each spreadsheet-mangled code with its line, and lists it', async () => {
    const csv = file(
      'regional.csv',
      [
        'category,system,code,display',
        `regional,SNOMED CT,${ASTHMA},Asthma`,
        'regional,SNOMED CT,1.03E+15,mangled by a spreadsheet',
      ].join('\n'),
    );
    const anonymous = await sharedcare(['codes', 'import', '--list-version', '1', csv]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toContain('pass --by <your user id> and --org');
    const strict = await sharedcare(['codes', 'import', '--strict', '--list-version', '1', ...BY, csv]);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toMatch(/regional\.csv: row 3: code "1\.03E\+15"/);
    const listed = await sharedcare(['codes', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([]);

    const run = await sharedcare([
      'codes',
      'import',
      '--list-version',
      '1',
      '--date',
      '2026-11-01',
      ...BY,
      csv,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/row 3: code "1\.03E\+15".*skipped/);
    expect(run.stdout).toContain('imported regional version 1 (2026-11-01): 1 codes');
    const lists = JSON.parse((await sharedcare(['codes', 'list', '--json'])).stdout) as unknown[];
    expect(lists).toEqual([
      expect.objectContaining({
        name: 'regional',
        version: '1',
        date: '2026-11-01',
        codeCount: 1,
        importedBy: 'ig.lead',
      }),
    ]);
  }, 120_000);

  it('shows what a new version would change', async () => {
    const next = file('regional-v2.csv', ['category,system,code', 'regional,SNOMED CT,38341003'].join('\n'));
    const run = await sharedcare(['codes', 'diff', '--name', 'regional', next]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`+ regional http://snomed.info/sct 38341003 exact`);
    expect(run.stdout).toContain(`- regional http://snomed.info/sct ${ASTHMA} exact`);
    expect(run.stdout).toContain('regional: 1 added, 1 removed, 0 unchanged');
  }, 60_000);

  it.skipIf(!present)(
    'imports the published lists as published: ValueSets, and research code lists by system',
    async () => {
      const vs = path.join(
        FIXTURES,
        'nhsisl-olids-gp-summary-exclusion',
        'Sexually_transmitted_disease_vs.json',
      );
      const run = await sharedcare(['codes', 'import', ...BY, vs]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/imported Sexually_transmitted_disease_vs version 1: \d{4} codes/);
      expect(run.stderr).toMatch(/E\+\d+.*skipped/); // the mangled ones, named
      const ctv3 = path.join(FIXTURES, 'gm-sde', 'conditions', 'hiv', 'hiv.ctv3.txt');
      const r2 = await sharedcare([
        'codes',
        'import',
        '--name',
        'gm-sde-hiv-ctv3',
        '--category',
        'hiv_aids',
        ...BY,
        ctv3,
      ]);
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.stdout).toMatch(/imported gm-sde-hiv-ctv3: \d+ codes/);
    },
    180_000,
  );

  describe('while `sharedcare serve` holds the folder', () => {
    let server: ChildProcess | undefined;
    const base = () => `http://127.0.0.1:${port}`;
    const token = async (...args: string[]) => (await sharedcare(['token', ...args])).stdout.trim();
    let clinician: string;
    let personId: string;

    beforeAll(async () => {
      await sharedcare([
        'org',
        'add',
        '--ods',
        'Y90001',
        '--name',
        'Riverside Surgery',
        '--kind',
        'gp',
        '--contributes',
        '--views',
        ...['--by', 'admin.one', '--org', 'Y90001'],
      ]);
      await sharedcare([
        ...['source', 'add', '--id', 'gp-riverside', '--org', 'Y90001', '--kind', 'fhir'],
        ...['--by', 'admin.one', '--by-org', 'Y90001'],
      ]);
      server = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--mllp-port', '0'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const deadline = Date.now() + 90_000;
      for (;;) {
        try {
          if ((await fetch(`${base()}/health`)).ok) break;
        } catch {
          /* not yet */
        }
        if (Date.now() > deadline) throw new Error('serve did not answer /health');
        await sleep(250);
      }
      const source = await token('--source', 'gp-riverside');
      const P = { reference: 'Patient/p1' };
      const cond = (id: string, code: object) => ({
        resource: { resourceType: 'Condition', id, code, subject: P, recordedDate: '2024-01-01' },
        request: { method: 'PUT', url: `Condition/${id}` },
      });
      const res = await fetch(`${base()}/ingest/fhir`, {
        method: 'POST',
        headers: { authorization: `Bearer ${source}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Bundle',
          type: 'batch',
          entry: [
            {
              resource: {
                resourceType: 'Patient',
                id: 'p1',
                identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000042' }],
              },
              request: { method: 'PUT', url: 'Patient/p1' },
            },
            cond('hyp', { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] }),
            cond('note', { text: 'Under the GUM clinic' }),
          ],
        }),
      });
      expect(res.status).toBe(200);
      clinician = await token('--user', 'dr.one', '--org', 'Y90001', '--role', 'R8000');
      const found = (await (
        await fetch(`${base()}/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000042`, {
          headers: { authorization: `Bearer ${clinician}` },
        })
      ).json()) as { entry: { resource: { id: string } }[] };
      personId = found.entry[0]!.resource.id;
    }, 180_000);

    afterAll(async () => {
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => server!.once('exit', r));
      }
    });

    const shown = async () =>
      (await fetch(`${base()}/fhir/Patient/${personId}/$everything`, {
        headers: { authorization: `Bearer ${clinician}` },
      }).then((r) => r.text())) as string;

    it('an import goes through the server, and the record shows the change at once', async () => {
      expect(await shown()).toContain('38341003');
      const v2 = file('regional-v2b.csv', ['category,system,code', 'regional,SNOMED CT,38341003'].join('\n'));
      const run = await sharedcare([
        'codes',
        'import',
        '--name',
        'regional',
        '--list-version',
        '2',
        ...BY,
        v2,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(await shown()).not.toContain('38341003');
    }, 60_000);

    it('the review queue is worked from the CLI, naming who decides', async () => {
      expect(await shown()).not.toContain('GUM clinic');
      const listed = await sharedcare(['sensitivity', 'review', 'list']);
      expect(listed.code, listed.stderr).toBe(0);
      const queue = JSON.parse(listed.stdout) as {
        itemId: string;
        matches: { phrase: string; rule: string }[];
      }[];
      expect(queue).toHaveLength(1);
      expect(queue[0]!.matches).toEqual([expect.objectContaining({ phrase: 'GUM', rule: 'abbreviation' })]);
      const missing = await sharedcare(['sensitivity', 'review', 'release', queue[0]!.itemId]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('--by');
      const done = await sharedcare([
        'sensitivity',
        'review',
        'release',
        queue[0]!.itemId,
        '--by',
        'ig.lead',
        '--org',
        'Y90001',
      ]);
      expect(done.code, done.stderr).toBe(0);
      expect(JSON.parse(done.stdout)).toMatchObject({
        status: 'released',
        decidedBy: 'ig.lead',
        decidedOrg: 'Y90001',
      });
      expect(await shown()).toContain('GUM clinic');
    }, 60_000);
  });
});
