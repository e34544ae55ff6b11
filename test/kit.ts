/**
 * Shared test kit. Database tests run on embedded PGlite always, and on a real PostgreSQL server
 * when one is reachable (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres):
 * each test suite gets a fresh database of its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { mintSourceToken, mintUserToken, ADMIN_ROLE } from '../src/access/index.ts';
import { createApp, type App } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config/index.ts';
import { migrate, openDatabase, type Database } from '../src/db/index.ts';
import { upsertOrganisation, upsertSource } from '../src/region/index.ts';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

const pgAvailable = await postgresReachable();
// CI (.ci/run) sets SHAREDCARE_REQUIRE_POSTGRES: there a missing server fails the run instead of
// skipping every PostgreSQL variant (the concurrency, failover and scale-out tests among them)
if (!pgAvailable && process.env.SHAREDCARE_REQUIRE_POSTGRES) {
  throw new Error(
    `[sharedcare tests] PostgreSQL not reachable at ${PG_URL}, and SHAREDCARE_REQUIRE_POSTGRES is set: start it (see .ci/run) or unset the variable to run the PGlite variants alone.`,
  );
}
if (!pgAvailable) {
  console.warn(
    `[sharedcare tests] PostgreSQL not reachable at ${PG_URL}: PostgreSQL variants are skipped; PGlite variants run.`,
  );
}

export interface TestDatabase {
  db: Database;
  /** the database's URL (PostgreSQL only), for a client of a test's own */
  url?: string;
  drop(): Promise<void>;
}

async function freshPostgres(migrated: boolean): Promise<TestDatabase> {
  const name = `sc_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), migrate: migrated });
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const a = new pg.Client({ connectionString: PG_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

async function freshPglite(migrated: boolean): Promise<TestDatabase> {
  const db = await openDatabase({ migrate: false });
  if (migrated) await migrate(db);
  return { db, drop: () => db.close() };
}

export type DbKind = 'pglite' | 'postgres';

/** The database kinds to run suites on: [['pglite'], ['postgres']] (postgres only when reachable). */
export const DB_KINDS: DbKind[] = pgAvailable ? ['pglite', 'postgres'] : ['pglite'];

/** A new database, migrated to head unless told not to (`{ migrated: false }`: empty). */
export function freshDatabase(kind: DbKind, opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const migrated = opts.migrated ?? true;
  return kind === 'postgres' ? freshPostgres(migrated) : freshPglite(migrated);
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}, { NODE_ENV: 'test' }), ...overrides };
}

export interface TestRegion {
  app: App;
  config: Config;
  db: Database;
  drop(): Promise<void>;
  /** bearer tokens */
  sourceToken(id: string): Promise<string>;
  userToken(user: string, org: string, role?: string): Promise<string>;
  adminToken(): Promise<string>;
}

/**
 * An injected clock for tests whose outcome depends on the day or the hour (the out-of-hours alert
 * rule, dedupe windows): it starts at a fixed instant, by default a Wednesday at noon in London,
 * and moves on with real time, so a test sees the same day and hour whenever it runs.
 */
export function fixedClock(start = '2026-11-25T12:00:00Z'): () => Date {
  const from = Date.parse(start);
  const t0 = performance.now();
  return () => new Date(from + Math.round(performance.now() - t0));
}

export interface RegionOptions {
  /** the app's clock for decisions and audit events (default: the system clock) */
  clock?: () => Date;
  /** the app's logger (tests that read what was logged) */
  log?: Logger;
}

/** A small region: a GP practice and a hospital that contribute and view, a lab that only contributes. */
export async function startRegion(
  kind: DbKind,
  configOverrides: Partial<Config> = {},
  opts: RegionOptions = {},
): Promise<TestRegion> {
  const fresh = await freshDatabase(kind);
  const config = testConfig(configOverrides);
  await fresh.db.transaction(async (tx) => {
    await upsertOrganisation(tx, {
      ods: 'Y90001',
      name: 'Riverside Surgery',
      kind: 'gp',
      contributes: true,
      views: true,
    });
    await upsertOrganisation(tx, {
      ods: 'RX1',
      name: 'Northgate Hospital',
      kind: 'acute',
      contributes: true,
      views: true,
    });
    await upsertOrganisation(tx, { ods: 'LAB01', name: 'Private Lab', contributes: true, views: false });
    await upsertSource(tx, { id: 'gp-riverside', org: 'Y90001', kind: 'fhir' });
    await upsertSource(tx, { id: 'northgate-pas', org: 'RX1', kind: 'fhir' });
    await upsertSource(tx, { id: 'private-lab', org: 'LAB01', kind: 'fhir' });
  });
  const app = await createApp(config, {
    db: fresh.db,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  return {
    ...appHandle(app, config),
    db: fresh.db,
    async drop() {
      await app.close();
      await fresh.drop();
    },
  };
}

/** What test/http.ts needs of a region: the app and its tokens. */
export type AppHandle = Pick<TestRegion, 'app' | 'config' | 'sourceToken' | 'userToken' | 'adminToken'>;

/** The handle of an app a test built itself (on its own server, or over a recording database). */
export function appHandle(app: App, config: Config): AppHandle {
  const secret = config.devIssuerSecret!;
  return {
    app,
    config,
    sourceToken: (id) => mintSourceToken(secret, id),
    userToken: (user, org, role = 'R8000') => mintUserToken(secret, { user, org, role }),
    adminToken: () => mintUserToken(secret, { user: 'admin1', org: 'Y90001', role: ADMIN_ROLE }),
  };
}

/** Riverside Surgery (Y90001), which contributes and views, and its FHIR source gp-riverside. */
export async function registerRiverside(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await upsertOrganisation(tx, {
      ods: 'Y90001',
      name: 'Riverside',
      kind: 'gp',
      contributes: true,
      views: true,
    });
    await upsertSource(tx, { id: 'gp-riverside', org: 'Y90001', kind: 'fhir' });
  });
}
