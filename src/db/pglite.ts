import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { toDatabaseError } from './errors.ts';
import { lockDataDir } from './lock.ts';
import type { Database, Queryable, QueryResult } from './types.ts';

interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
}

function wrap(target: PgliteLike): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      let r;
      try {
        r = await target.query<T>(sql, params);
      } catch (err) {
        // PGlite's error carries the statement's params: it leaves as a log-safe DatabaseError.
        throw toDatabaseError(err, sql);
      }
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
  };
}

/**
 * Embedded PostgreSQL (PGlite). One process owns the data folder at a time; PGlite serialises
 * queries and transactions internally, so there is no pool.
 * dataDir undefined → in memory (tests).
 */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  const release = dataDir ? lockDataDir(dataDir) : () => undefined;
  const pg = dataDir ? new PGlite(dataDir) : new PGlite();
  try {
    await pg.waitReady;
  } catch (err) {
    release();
    throw err;
  }
  return pgliteDatabase(pg, release);
}

/**
 * The Database interface over an open PGlite handle. Exported for tools that need the handle
 * itself as well (the benchmark's COPY FROM '/dev/blob'); `afterClose` runs once it is closed.
 */
export function pgliteDatabase(pg: PGlite, afterClose: () => void = () => undefined): Database {
  const base = wrap(pg);
  let closed = false;
  return {
    kind: 'pglite',
    query: base.query,
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => {
      let fromFn = false;
      try {
        return await pg.transaction(async (tx) => {
          try {
            return await fn(wrap(tx));
          } catch (err) {
            fromFn = true;
            throw err;
          }
        });
      } catch (err) {
        // errors from fn are already ours; BEGIN / COMMIT failures come from the driver
        throw fromFn ? err : toDatabaseError(err, undefined);
      }
    },
    exec: async (sql) => {
      try {
        await pg.exec(sql);
      } catch (err) {
        throw toDatabaseError(err, sql);
      }
    },
    dumpDataDir: async () => {
      // PGlite's dumpDataDir holds the query lock but not the transaction lock: run it inside a
      // transaction of our own, so that no other transaction is open while the files are copied,
      // after a CHECKPOINT, so that the data files already hold everything committed.
      const blob = await pg.transaction(async (tx) => {
        await tx.exec('CHECKPOINT');
        return pg.dumpDataDir('gzip');
      });
      return new Uint8Array(await blob.arrayBuffer());
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pg.close();
      afterClose();
    },
  };
}

/**
 * Unpacks a data folder copied by dumpDataDir into `dataDir`, which must be absent or empty, and
 * checks that PostgreSQL starts on it (crash recovery, if the copy needs it, runs here).
 */
export async function restorePglite(dataDir: string, tarball: Uint8Array): Promise<void> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0)
    throw new Error(`${dataDir} is not empty: restore into an empty place`);
  mkdirSync(dataDir, { recursive: true });
  const release = lockDataDir(dataDir);
  try {
    const pg = new PGlite(dataDir, { loadDataDir: new Blob([new Uint8Array(tarball)]) });
    await pg.waitReady;
    await pg.query('SELECT 1');
    await pg.close();
  } finally {
    release();
  }
}
