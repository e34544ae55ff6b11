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
    close: async () => {
      if (closed) return;
      closed = true;
      await pg.close();
      afterClose();
    },
  };
}
