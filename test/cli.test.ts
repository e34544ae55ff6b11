/**
 * The `sharedcare` command as a user runs it: `node bin/sharedcare.js …` in a child process, on an
 * embedded PGlite data folder of its own, first directly and then while `sharedcare serve` holds
 * that folder (the CLI must go through the server's admin API, never open the folder twice).
 *
 * The tests run in order and build on each other (register, generate, load, objections, audit,
 * server), as a user's session would; each CLI run costs a few seconds, so there are few of them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../src/identity/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
/** who is acting: commands that change governance data name the person and organisation */
const BY = ['--by', 'admin.one', '--org', 'Y91234'];
const BY_SOURCE = ['--by', 'admin.one', '--by-org', 'Y91234']; // `source add` has its own --org

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface OrganisationOut {
  ods: string;
  name: string;
  kind: string | null;
  contributes: boolean;
  views: boolean;
}
interface SourceOut {
  id: string;
  org: string;
  kind: string;
}
interface ObjectionOut {
  id: string;
  personId: string;
  scope: string;
  target: string | null;
  withdrawnAt: string | null;
}
interface AuditEventOut {
  action: string;
  personId?: string;
  user: { id: string; org: string; role: string };
}
interface RegionFile {
  organisations: OrganisationOut[];
  sources: SourceOut[];
}

let dataDir: string;
let work: string;
let port: number;
let env: NodeJS.ProcessEnv;

/** Runs `sharedcare ARGS…` to completion; never rejects (a non-zero exit is a result to check). */
function sharedcare(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...env, ...extraEnv }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** stdout of a run that must succeed, parsed as JSON. */
function json<T>(r: Run): T {
  expect(r.stderr, 'stderr of a successful run').toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const p = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

function jwtPayload(token: string): Record<string, unknown> {
  const parts = token.split('.');
  expect(parts).toHaveLength(3);
  return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const lockFile = () => path.join(dataDir, 'sharedcare.lock');

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-cli-data-'));
  work = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-cli-work-'));
  port = await freePort();
  env = {
    ...process.env,
    SHAREDCARE_DATA_DIR: dataDir,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: String(port),
    SHAREDCARE_PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
  // embedded PGlite only, and nothing from the caller's configuration
  for (const k of ['DATABASE_URL', 'SHAREDCARE_CONFIG', 'SHAREDCARE_SENSITIVE_CODES', 'SHAREDCARE_HOST'])
    delete env[k];
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('sharedcare CLI (child processes, embedded PGlite)', () => {
  let orgsBefore: string;
  let sourcesBefore: string;

  it('registers an organisation and a source, and the lists show them', async () => {
    const org = json<OrganisationOut>(
      await sharedcare([
        'org',
        'add',
        '--ods',
        'Y91234',
        '--name',
        'Brookside Surgery',
        '--kind',
        'gp',
        '--contributes',
        '--views',
        ...BY,
      ]),
    );
    expect(org).toMatchObject({ ods: 'Y91234', name: 'Brookside Surgery', contributes: true, views: true });
    json(
      await sharedcare([
        'source',
        'add',
        '--id',
        'gp-brookside',
        '--org',
        'Y91234',
        '--kind',
        'fhir',
        ...BY_SOURCE,
      ]),
    );

    const orgs = await sharedcare(['org', 'list']);
    expect(json<OrganisationOut[]>(orgs)).toContainEqual({
      ods: 'Y91234',
      name: 'Brookside Surgery',
      kind: 'gp',
      contributes: true,
      views: true,
    });
    const sources = await sharedcare(['source', 'list']);
    expect(json<SourceOut[]>(sources)).toContainEqual(
      expect.objectContaining({ id: 'gp-brookside', org: 'Y91234', kind: 'fhir' }),
    );
    orgsBefore = orgs.stdout;
    sourcesBefore = sources.stdout;
  }, 120_000);

  it('refuses bad input with a message that says what to fix, and changes nothing', async () => {
    const badOds = await sharedcare([
      'org',
      'add',
      '--ods',
      'bad',
      '--name',
      'Bad Practice',
      '--views',
      ...BY,
    ]);
    expect(badOds.code).not.toBe(0);
    expect(badOds.stderr).toMatch(/ODS code is 3 to 10 capital letters or digits/);

    const base = ['org', 'add', '--ods', 'Y91235', '--name', 'Hillside Surgery', '--contributes', ...BY];
    const fromOnly = await sharedcare([...base, '--shares-from', '2019-04-01']);
    expect(fromOnly.code).not.toBe(0);
    expect(fromOnly.stderr).toMatch(/--shares-from needs --shares/);
    const badShares = await sharedcare([...base, '--shares', ' ; ', '--shares-from', '1/4/2019']);
    expect(badShares.code).not.toBe(0);
    expect(badShares.stderr).toMatch(/dataSet.categories: name at least one category of what is shared/);
    expect(badShares.stderr).toMatch(/dataSet.from: from is a date: YYYY-MM-DD/);

    const noOrg = await sharedcare([
      'source',
      'add',
      '--id',
      'gp-nowhere',
      '--org',
      'Y99999',
      '--kind',
      'fhir',
      ...BY_SOURCE,
    ]);
    expect(noOrg.code).not.toBe(0);
    expect(noOrg.stderr).toMatch(/organisation Y99999 is not registered; add it first/);

    const badKind = await sharedcare([
      'source',
      'add',
      '--id',
      'gp-ftp',
      '--org',
      'Y91234',
      '--kind',
      'ftp',
      ...BY_SOURCE,
    ]);
    expect(badKind.code).not.toBe(0);
    expect(badKind.stderr).toMatch(/'ftp' is invalid/);
    expect(badKind.stderr).toMatch(/fhir, hl7v2, batch/);

    for (const r of [badOds, noOrg, badKind]) expect(r.stdout).toBe('');
    expect((await sharedcare(['org', 'list'])).stdout).toBe(orgsBefore);
    expect((await sharedcare(['source', 'list'])).stdout).toBe(sourcesBefore);
  }, 180_000);

  let regionDir: string;
  let region: RegionFile;

  it('generates a synthetic region: region.json and a folder per source', async () => {
    regionDir = path.join(work, 'region');
    const r = await sharedcare(['generate', '--persons', '5', '--out', regionDir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Wrote 5 people/);
    region = JSON.parse(readFileSync(path.join(regionDir, 'region.json'), 'utf8')) as RegionFile;
    expect(region.organisations.length).toBeGreaterThan(0);
    expect(region.sources.length).toBeGreaterThan(0);
    for (const s of region.sources) {
      expect(region.organisations.map((o) => o.ods)).toContain(s.org);
      expect(statSync(path.join(regionDir, s.id)).isDirectory(), `folder for ${s.id}`).toBe(true);
    }
  }, 60_000);

  let sourceId: string;
  let nhs: string;

  it('loads a source folder with a summary, and loading it again stores nothing new', async () => {
    // the smallest FHIR source with data and a Patient whose NHS number is valid
    const candidates = region.sources
      .filter((s) => s.kind === 'fhir')
      .flatMap((s) => {
        const dir = path.join(regionDir, s.id);
        const files = readdirSync(dir).filter((f) => f.endsWith('.ndjson'));
        if (files.length === 0) return [];
        const lines = files.flatMap((f) =>
          readFileSync(path.join(dir, f), 'utf8')
            .split('\n')
            .filter((l) => l.trim()),
        );
        const numbers = lines
          .map(
            (l) =>
              JSON.parse(l) as { resourceType: string; identifier?: { system?: string; value?: string }[] },
          )
          .filter((res) => res.resourceType === 'Patient')
          .flatMap((p) => p.identifier ?? [])
          .filter(
            (i) => i.system === NHS_SYSTEM && /^\d{10}$/.test(i.value ?? '') && isValidNhsNumber(i.value!),
          )
          .map((i) => i.value!);
        return numbers.length > 0 ? [{ id: s.id, lines: lines.length, nhs: numbers[0]! }] : [];
      })
      .sort((a, b) => a.lines - b.lines);
    expect(candidates.length).toBeGreaterThan(0);
    const chosen = candidates[0]!;
    sourceId = chosen.id;
    nhs = chosen.nhs;
    const config = path.join(regionDir, 'region.json');

    const load = () =>
      sharedcare(['load', '--source', sourceId, path.join(regionDir, sourceId), '--config', config]);
    const first = await load();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Loaded \d+ file\(s\) in \d+ request\(s\)/);
    const created = Number(/created: (\d+)/.exec(first.stdout)?.[1]);
    const linked = Number(/linked: (\d+)/.exec(first.stdout)?.[1]);
    expect(created).toBeGreaterThan(0);
    expect(linked).toBeGreaterThan(0);
    expect(first.stdout).not.toMatch(/failed/);

    const again = await load();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/created|linked|updated/);
    expect(Number(/unchanged: (\d+)/.exec(again.stdout)?.[1])).toBe(chosen.lines);

    // the config file registered the region's organisations and sources
    const orgs = json<OrganisationOut[]>(await sharedcare(['org', 'list']));
    expect(orgs.map((o) => o.ods)).toEqual(
      expect.arrayContaining(['Y91234', ...region.organisations.map((o) => o.ods)]),
    );
  }, 240_000);

  it('refuses to load as a source that is not registered, and says so', async () => {
    const r = await sharedcare([
      'load',
      '--source',
      'gp-unknown',
      path.join(regionDir, sourceId),
      '--config',
      path.join(regionDir, 'region.json'),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/source system gp-unknown is not registered/);
    expect(r.stdout).toMatch(/nothing stored/);
  }, 120_000);

  it('prints development tokens, refuses them in production mode, and says what to give', async () => {
    const [user, source, production, productionEnv, incomplete] = await Promise.all([
      sharedcare(['token', '--user', 'dr.jones', '--org', 'RX1', '--role', 'R8000']),
      sharedcare(['token', '--source', 'gp-brookside']),
      sharedcare(['token', '--user', 'dr.jones', '--org', 'RX1', '--role', 'R8000', '--production']),
      sharedcare(['token', '--user', 'dr.jones', '--org', 'RX1', '--role', 'R8000'], {
        NODE_ENV: 'production',
      }),
      sharedcare(['token', '--user', 'dr.jones']),
    ]);
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(jwtPayload(user.stdout.trim())).toMatchObject({
      kind: 'user',
      sub: 'dr.jones',
      org: 'RX1',
      role: 'R8000',
    });
    expect(source.code, source.stderr).toBe(0);
    expect(source.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(jwtPayload(source.stdout.trim())).toMatchObject({ kind: 'source', sub: 'gp-brookside' });

    for (const refused of [production, productionEnv]) {
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/development issuer is refused in production mode/);
    }
    expect(incomplete.code).not.toBe(0);
    expect(incomplete.stdout).toBe('');
    expect(incomplete.stderr).toMatch(/give --user, --org and --role \(or --source ID\)/);
  }, 120_000);

  let objectionId: string;

  it('records, lists and withdraws an objection for a loaded person', async () => {
    const added = json<ObjectionOut>(await sharedcare(['objection', 'add', '--nhs', nhs, ...BY]));
    expect(added).toMatchObject({ scope: 'record', withdrawnAt: null });
    objectionId = added.id;

    const listed = json<ObjectionOut[]>(await sharedcare(['objection', 'list', '--nhs', nhs]));
    expect(listed.map((o) => o.id)).toEqual([objectionId]);

    const withdrawn = json<ObjectionOut>(
      await sharedcare(['objection', 'withdraw', '--id', objectionId, ...BY]),
    );
    expect(withdrawn.id).toBe(objectionId);
    expect(withdrawn.withdrawnAt).toBeTruthy();

    expect(json<ObjectionOut[]>(await sharedcare(['objection', 'list', '--nhs', nhs]))).toEqual([]);
    const all = json<ObjectionOut[]>(await sharedcare(['objection', 'list', '--nhs', nhs, '--all']));
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ id: objectionId, scope: 'record' });
    expect(all[0]!.withdrawnAt).toBeTruthy();
  }, 240_000);

  it('refuses an objection for an invalid NHS number', async () => {
    const r = await sharedcare(['objection', 'add', '--nhs', '1234567890', ...BY]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/not a valid NHS number/);
  }, 120_000);

  let eventsBeforeServer: number;

  it('verifies the audit chain and reports the objection events for the person', async () => {
    const verify = await sharedcare(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    const m = /^Audit chain intact: (\d+) events verified\.$/.exec(verify.stdout.trim());
    expect(m, verify.stdout).not.toBeNull();
    eventsBeforeServer = Number(m![1]);
    // at least: org add, source add, objection add, withdraw, three lists
    expect(eventsBeforeServer).toBeGreaterThanOrEqual(7);

    const report = json<AuditEventOut[]>(await sharedcare(['audit', 'report', '--person', nhs]));
    const actions = report.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['objection.record', 'objection.withdraw', 'objection.list']),
    );
    const personIds = new Set(report.map((e) => e.personId));
    expect(personIds.size).toBe(1);
  }, 120_000);

  describe('while `sharedcare serve` holds the data folder', () => {
    let server: ChildProcess | undefined;
    let serverErr = '';
    const base = () => `http://127.0.0.1:${port}`;

    beforeAll(async () => {
      server = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--mllp-port', '0'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      server.stderr!.on('data', (d: Buffer) => (serverErr += d.toString()));
      server.stdout!.resume();
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (server.exitCode !== null) throw new Error(`serve exited early: ${serverErr}`);
        try {
          const res = await fetch(`${base()}/health`);
          if (res.ok) break;
        } catch {
          /* not listening yet */
        }
        if (Date.now() > deadline) throw new Error(`serve did not answer /health: ${serverErr}`);
        await sleep(250);
      }
    }, 120_000);

    afterAll(async () => {
      // only if a test failed before stopping it
      if (server && server.exitCode === null && server.signalCode === null) {
        server.kill('SIGKILL');
        await exited(server);
      }
    });

    it('holds the folder with a lock file naming its pid', () => {
      expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(server!.pid));
    });

    it('CLI commands go through the running server', async () => {
      const added = json<ObjectionOut>(
        await sharedcare(['objection', 'add', '--nhs', nhs, '--category', 'medications', ...BY]),
      );
      expect(added).toMatchObject({ scope: 'category', target: 'medications', withdrawnAt: null });

      const orgs = json<OrganisationOut[]>(await sharedcare(['org', 'list']));
      expect(orgs.map((o) => o.ods)).toEqual(
        expect.arrayContaining(['Y91234', ...region.organisations.map((o) => o.ods)]),
      );

      // the server (which alone has the folder open) has the new objection, and accepts the
      // tokens the CLI prints
      const [admin, clinician] = await Promise.all([
        sharedcare(['token', '--user', 'admin.one', '--org', 'Y91234', '--role', 'sharedcare-admin']),
        sharedcare(['token', '--user', 'dr.jones', '--org', 'RX1', '--role', 'R8000']),
      ]);
      const objections = await fetch(`${base()}/admin/objections?nhs=${nhs}`, {
        headers: { authorization: `Bearer ${admin.stdout.trim()}` },
      });
      expect(objections.status).toBe(200);
      expect(((await objections.json()) as ObjectionOut[]).map((o) => o.id)).toContain(added.id);
      const search = await fetch(`${base()}/fhir/Patient?identifier=${NHS_SYSTEM}|${nhs}`, {
        headers: { authorization: `Bearer ${clinician.stdout.trim()}` },
      });
      expect(search.status).toBe(200);
      const found = (await search.json()) as { entry?: { resource?: { resourceType?: string } }[] };
      expect(found.entry?.filter((e) => e.resource?.resourceType === 'Patient')).toHaveLength(1);

      expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(server!.pid));
    }, 180_000);

    it('a second `serve` on the same folder refuses, naming the lock, and the first keeps running', async () => {
      const second = await sharedcare(['serve', '--port', String(await freePort()), '--mllp-port', '0']);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(`The embedded database in ${dataDir} is in use`);
      expect(second.stderr).toContain(`(pid ${server!.pid})`);
      expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(server!.pid));
      expect((await fetch(`${base()}/health`)).status).toBe(200);
    }, 120_000);

    it('stops on SIGTERM, releases the folder, and the CLI then opens it directly', async () => {
      server!.kill('SIGTERM');
      const result = await Promise.race([exited(server!), sleep(30_000).then(() => 'timeout' as const)]);
      expect(result, serverErr).not.toBe('timeout');
      expect(result).toEqual({ code: 0, signal: null });
      expect(existsSync(lockFile())).toBe(false);

      const verify = await sharedcare(['audit', 'verify']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      const events = Number(/^Audit chain intact: (\d+) events verified\.$/.exec(verify.stdout.trim())?.[1]);
      // the server-side objection, list and reads were audited into the same chain
      expect(events).toBeGreaterThan(eventsBeforeServer);
    }, 120_000);
  });
});
