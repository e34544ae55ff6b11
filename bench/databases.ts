/**
 * The databases the benchmark runs on: a PostgreSQL database of its own (sharedcare_bench_…,
 * created and dropped here, never any other), and a PGlite data folder whose PGlite handle we keep,
 * so that the raw COPY comparison can use PGlite's `/dev/blob` COPY.
 */
import { rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { migrate, pgliteDatabase, type Database } from '../src/db/index.ts';

export async function postgresReachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]?.v ?? 'unknown';
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates sharedcare_bench_<tag>; `drop()` removes it again. */
export async function createBenchDatabase(adminUrl: string, tag: string): Promise<BenchDatabase> {
  const name = `sharedcare_bench_${tag.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

export interface BenchPglite {
  db: Database;
  pglite: PGlite;
  remove(): Promise<void>;
}

/** A PGlite data folder opened through src/db's own wrapper, keeping the PGlite handle for COPY. */
export async function openBenchPglite(dataDir: string, keep: boolean): Promise<BenchPglite> {
  rmSync(dataDir, { recursive: true, force: true });
  const pglite = new PGlite(dataDir);
  await pglite.waitReady;
  const db: Database = pgliteDatabase(pglite);
  await migrate(db);
  return {
    db,
    pglite,
    async remove() {
      await db.close();
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
