/**
 * Production start-up on a real PostgreSQL (issue 11, items 1 and 3): the server connects as the
 * application's own role and refuses to start, listing every problem, when a secret is missing,
 * weak or published, or when the role it connects as could change the audit trail: a superuser,
 * the tables' owner, a role that can RESET ROLE to the owner, one with UPDATE, DELETE, TRUNCATE or
 * TRIGGER on an audit table, or a SHAREDCARE_DB_ROLE that does not exist. Each test makes roles
 * with random names and drops them afterwards; the cluster's own roles are never altered.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { ConfigError, DEV_SECRET_DEFAULT, loadConfig } from '../src/config/index.ts';
import { DB_KINDS, freshDatabase, PG_URL, type TestDatabase } from './kit.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const suffix = randomBytes(4).toString('hex');
const role = (what: string) => `sc_${what}_${suffix}`;
const ROLES = ['app', 'super', 'owner', 'reset', 'audit', 'maker'].map(role);

describe.skipIf(!DB_KINDS.includes('postgres'))('production start-up on PostgreSQL', () => {
  let t: TestDatabase;
  let dbName: string;
  let work: string;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: urlAs('postgres', dbName) });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  const urlAs = (user: string, db = dbName) => {
    const u = new URL(PG_URL);
    u.username = user;
    u.password = '';
    u.pathname = `/${db}`;
    return u.toString();
  };
  const env = (user: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    DATABASE_URL: urlAs(user),
    SHAREDCARE_SESSION_SECRET: randomBytes(32).toString('base64'),
    SHAREDCARE_DATA_DIR: path.join(work, 'data'),
    SHAREDCARE_CONFIG: path.join(work, 'region.yaml'),
    LOG_LEVEL: 'silent',
    SHAREDCARE_METRICS_PORT: '0',
    ...extra,
  });
  const start = (e: NodeJS.ProcessEnv) => createApp(loadConfig({ production: true }, e));
  const refusal = async (e: NodeJS.ProcessEnv): Promise<string> => {
    const err = await start(e).then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err, 'the server started').toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  };

  beforeAll(async () => {
    t = await freshDatabase('postgres');
    dbName = (await t.db.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    work = mkdtempSync(path.join(os.tmpdir(), 'sc-prod-'));
    writeFileSync(
      path.join(work, 'region.yaml'),
      'identityProviders:\n  - { issuer: "https://idp.example.nhs.uk", claims: { style: cis2 } }\n',
    );
    await admin(`
      CREATE ROLE ${role('app')} LOGIN; GRANT sharedcare_app TO ${role('app')};
      CREATE ROLE ${role('super')} LOGIN SUPERUSER;
      CREATE ROLE ${role('owner')} LOGIN; ALTER TABLE clinical_item OWNER TO ${role('owner')};
      CREATE ROLE ${role('reset')} LOGIN; GRANT sharedcare_app, ${role('owner')} TO ${role('reset')};
      CREATE ROLE ${role('audit')} LOGIN; GRANT sharedcare_app TO ${role('audit')};
      GRANT UPDATE, TRIGGER ON audit_event TO ${role('audit')}; GRANT TRUNCATE ON audit_alert TO ${role('audit')};
      CREATE ROLE ${role('maker')} LOGIN CREATEROLE; GRANT sharedcare_app TO ${role('maker')};
    `);
  }, 60_000);

  afterAll(async () => {
    await t?.drop();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const r of ROLES) await c.query(`DROP ROLE IF EXISTS ${r}`);
    await c.end();
  });

  it('starts as a role made for the server, which cannot change the trail', async () => {
    const app = await start(env(role('app')));
    try {
      const who = await app.services.db.query<{ u: string }>('SELECT current_user AS u');
      expect(who.rows[0]!.u).toBe(role('app'));
      expect((await app.server.inject({ url: '/fhir/metadata' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['a superuser', 'postgres', /postgres is a superuser/],
    ['a superuser made for the test', role('super'), new RegExp(`${role('super')} is a superuser`)],
    ['the owner of the tables', role('owner'), new RegExp(`${role('owner')} owns the tables`)],
    [
      'a role that can RESET ROLE to the owner',
      role('reset'),
      new RegExp(
        `${role('reset')} \\(which can SET ROLE or RESET ROLE to ${role('owner')}\\) owns the tables`,
      ),
    ],
    ['a role with CREATEROLE', role('maker'), /has CREATEROLE/],
  ])('refuses to start as %s, naming it', async (_what, user, why) => {
    expect(await refusal(env(user, { SHAREDCARE_DB_ROLE: 'sharedcare_app' }))).toMatch(why);
  });

  it('refuses a role with UPDATE, TRIGGER or TRUNCATE on the audit tables, naming each', async () => {
    const problems = await refusal(env(role('audit')));
    expect(problems).toMatch(new RegExp(`${role('audit')} may TRUNCATE audit_alert`));
    expect(problems).toMatch(new RegExp(`${role('audit')} may TRIGGER, UPDATE audit_event`));
  });

  it('refuses a SHAREDCARE_DB_ROLE or a login role that does not exist', async () => {
    expect(await refusal(env(role('app'), { SHAREDCARE_DB_ROLE: role('missing') }))).toMatch(
      new RegExp(`SHAREDCARE_DB_ROLE names the role ${role('missing')}, which does not exist`),
    );
    expect(await refusal(env(role('missing')))).toMatch(
      new RegExp(`cannot connect to DATABASE_URL: role "${role('missing')}" does not exist`),
    );
  });

  it('lists secret and database problems together', async () => {
    const problems = await refusal(env('postgres', { SHAREDCARE_SESSION_SECRET: DEV_SECRET_DEFAULT }));
    expect(problems).toMatch(/SHAREDCARE_SESSION_SECRET is published/);
    expect(problems).toMatch(/postgres is a superuser/);
  });

  it('does not migrate: `sharedcare migrate` does, with the owner’s URL, and then the server starts', async () => {
    const empty = `sc_test_${randomBytes(6).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`CREATE DATABASE ${empty}`);
    try {
      const e = { ...env(role('app')), DATABASE_URL: urlAs(role('app'), empty) };
      expect(await refusal(e)).toMatch(
        /the database lacks \d+ migration\(s\) \(001_init\.sql…\): run `sharedcare migrate`/,
      );
      const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'migrate'], {
          cwd: ROOT,
          env: { ...process.env, ...e, SHAREDCARE_OWNER_DATABASE_URL: urlAs('postgres', empty) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
      expect(run.code, run.out).toBe(0);
      expect(run.out).toMatch(/applied 001_init\.sql/);
      const app = await start(e);
      await app.close();
    } finally {
      await c.query(`DROP DATABASE IF EXISTS ${empty} WITH (FORCE)`);
      await c.end();
    }
  }, 120_000);

  it('refuses to hold the owner’s URL itself', async () => {
    expect(await refusal(env(role('app'), { SHAREDCARE_OWNER_DATABASE_URL: urlAs('postgres') }))).toMatch(
      /SHAREDCARE_OWNER_DATABASE_URL is set/,
    );
  });

  /** `sharedcare serve --production --port 0`: its exit code, or 'running', and what it printed. */
  function serve(e: NodeJS.ProcessEnv): Promise<{ code: number | 'running'; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [BIN, 'serve', '--production', '--port', '0', '--mllp-port', '0'],
        {
          cwd: ROOT,
          env: { ...process.env, NODE_ENV: '', ...e },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('Sharedcare is running')) {
          child.kill('SIGTERM');
          resolve({ code: 'running', stderr });
        }
      });
      child.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
    });
  }

  it.each([
    ['unset', undefined],
    ['one character', 'x'],
    ['the development default', DEV_SECRET_DEFAULT],
  ])('refuses to start when the session secret is %s, saying why', async (_what, secret) => {
    const e = env(role('app'));
    if (secret === undefined) delete e.SHAREDCARE_SESSION_SECRET;
    else e.SHAREDCARE_SESSION_SECRET = secret;
    expect(await refusal(e)).toMatch(/^SHAREDCARE_SESSION_SECRET is (not set|too weak|published)/);
  });

  it('`serve --production` exits non-zero with a published session secret, listing the problems', async () => {
    const run = await serve(env(role('app'), { SHAREDCARE_SESSION_SECRET: DEV_SECRET_DEFAULT }));
    expect(run.code, run.stderr).not.toBe('running');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Configuration is not valid:\n {2}- SHAREDCARE_SESSION_SECRET is published/);
  }, 60_000);

  it('`serve --production` starts when every check passes', async () => {
    const run = await serve(env(role('app')));
    expect(run.code, run.stderr).toBe('running');
  }, 60_000);
});
