/**
 * `sharedcare retention run` as a user runs it (child processes, an embedded PGlite folder of its
 * own), and the retention section of the configuration file.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { openDatabase } from '../src/db/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
/** who runs retention: every run names the person and organisation */
const BY = ['--by', 'admin.one', '--org', 'Y90001'];
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');

let dir: string;
let env: NodeJS.ProcessEnv;

function sharedcare(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

function configFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-retention-'));
  env = {
    ...process.env,
    SHAREDCARE_DATA_DIR: path.join(dir, 'data'),
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
  };
  for (const k of ['DATABASE_URL', 'SHAREDCARE_CONFIG', 'SHAREDCARE_SENSITIVE_CODES']) delete env[k];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sharedcare retention run', () => {
  it.each([
    [['--as-of', '2030-13-01', '--dry-run'], /--as-of must be a date \(YYYY-MM-DD/],
    [['--as-of', '31/01/2030', '--dry-run'], /--as-of must be a date \(YYYY-MM-DD/],
    [
      ['--as-of', '2099-01-01'],
      /in the future: a real run cannot remove records before their time\. Add --dry-run/,
    ],
    [['--dry-run', '--bogus'], /unknown option '--bogus'/],
  ])(
    'refuses %j, says what to fix, and opens nothing',
    async (args, message) => {
      const r = await sharedcare(['retention', 'run', ...args, ...BY]);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(existsSync(path.join(dir, 'data'))).toBe(false);
    },
    60_000,
  );

  it('refuses a configuration with a wrong period, naming the field', async () => {
    const file = configFile('bad.yaml', 'retention:\n  adultYears: 0\n  maternityYear: 25\n');
    const r = await sharedcare(['retention', 'run', '--dry-run', '--config', file, ...BY]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('retention.adultYears: a period is a whole number of years (1 to 100)');
    expect(r.stderr).toMatch(/retention: Unrecognized key.*maternityYear/);
  }, 60_000);

  it('a dry run prints the report by rule, for people and as JSON', async () => {
    const human = await sharedcare(['retention', 'run', '--dry-run', '--as-of', '2030-01-31', ...BY]);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^Retention dry run \(nothing was changed\) as of 2030-01-31: 0 persons examined\./,
    );
    expect(human.stdout).toMatch(/adult\s+8 years after the last contact\s+0\s+0/);
    expect(human.stdout).toMatch(/child\s+until the 25th birthday \(26th if 17 at the last contact\)/);
    expect(human.stdout).toMatch(/maternity\s+25 years after the last maternity contact/);
    expect(human.stdout).toMatch(/mental-health\s+20 years after the last mental-health contact/);

    const file = configFile('periods.yaml', 'retention:\n  adultYears: 10\n  mentalHealthYears: 30\n');
    const json = await sharedcare(['retention', 'run', '--dry-run', '--json', '--config', file, ...BY]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { dryRun: boolean; periods: Record<string, number> };
    expect(report.dryRun).toBe(true);
    expect(report.periods).toEqual({
      adultYears: 10,
      childUntilBirthday: 25,
      childAged17UntilBirthday: 26,
      maternityYears: 25,
      mentalHealthYears: 30,
    });
  }, 120_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

describe('sharedcare retention run while `sharedcare serve` holds the data folder', () => {
  it('goes through POST /admin/retention/run, and a real run is audited there', async () => {
    const port = await freePort();
    env = { ...env, PORT: String(port), SHAREDCARE_PUBLIC_URL: `http://127.0.0.1:${port}` };
    const server = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--mllp-port', '0'], {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    });
    try {
      const healthy = () =>
        fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false,
        );
      for (let i = 0; !(await healthy()); i++) {
        if (i > 300 || server.exitCode !== null) throw new Error('serve did not start');
        await new Promise((r) => setTimeout(r, 250));
      }
      const dry = await sharedcare(['retention', 'run', '--dry-run', '--json', ...BY]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, persons: { examined: 0 } });
      const real = await sharedcare(['retention', 'run', ...BY]);
      expect(real.code, real.stderr).toBe(0);
      expect(real.stdout).toMatch(/^Retention run as of \d{4}-\d{2}-\d{2}: 0 persons examined\./);
      const future = await sharedcare(['retention', 'run', '--as-of', '2099-01-01', ...BY]);
      expect(future.stderr).toMatch(/Add --dry-run/);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once('exit', r)));
    }
    // the server wrote the run's audit events into the folder it held
    const db = await openDatabase({ dataDir: path.join(dir, 'data') });
    const { rows } = await db.query<{ action: string; user_id: string; user_org: string }>(
      "SELECT action, user_id, user_org FROM audit_event WHERE action = 'retention.run'",
    );
    await db.close();
    expect(rows).toEqual([{ action: 'retention.run', user_id: 'admin.one', user_org: 'Y90001' }]);
  }, 180_000);
});

describe('retention configuration', () => {
  it('has the national defaults', () => {
    expect(loadConfig({}, {}).retention).toEqual({
      adultYears: 8,
      childUntilBirthday: 25,
      childAged17UntilBirthday: 26,
      maternityYears: 25,
      mentalHealthYears: 20,
      maternityOrganisations: [],
      mentalHealthOrganisations: [],
    });
  });

  it('lists every wrong value at once', () => {
    const file = configFile(
      'wrong.json',
      JSON.stringify({
        retention: {
          adultYears: 7.5,
          childUntilBirthday: 16,
          maternityYears: '25',
          mentalHealthOrganisations: ['rx2'],
        },
      }),
    );
    let problems: string[] = [];
    try {
      loadConfig({ configFile: file }, {});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        `${file}: retention.adultYears: a period is a whole number of years (1 to 100)`,
        `${file}: retention.childUntilBirthday: a period is a whole number of years (18 to 100)`,
        `${file}: retention.maternityYears: a period is a whole number of years (1 to 100)`,
        `${file}: retention.mentalHealthOrganisations.0: an ODS code is 3 to 10 capital letters or digits`,
      ]),
    );
  });
});
