import pg from 'pg';
import { DatabaseError, isDatabaseUnavailable, statementName, toDatabaseError } from './errors.ts';
import { parseHostList } from './hosts.ts';
import { PrimaryPool } from './primary-pool.ts';
import type { Database, Queryable, QueryResult } from './types.ts';

/**
 * Parameterised statements run as named prepared statements: each connection parses and plans a
 * statement once and, once PostgreSQL settles on a generic plan, skips planning after that. A
 * record open runs about ten statements; planning the store's read alone took 0.8 ms of its
 * 0.9 ms execution (EXPLAIN ANALYZE). Statements without parameters (scripts, DDL) run as sent.
 */
function statement(sql: string, params: unknown[] | undefined): string | pg.QueryConfig {
  if (params === undefined) return sql;
  return { name: statementName(sql), text: sql, values: params };
}

/** Runs one statement; a driver error leaves as a log-safe DatabaseError (src/db/errors.ts). */
async function run(
  target: pg.Pool | pg.PoolClient,
  sql: string,
  params: unknown[] | undefined,
): Promise<pg.QueryResult> {
  try {
    return await target.query(statement(sql, params));
  } catch (err) {
    throw toDatabaseError(err, sql);
  }
}

// Keep timestamps and bigints as strings: the store passes them on, it does not compute with them.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/**
 * Settings of every session. JIT off: Sharedcare's statements are short, and PostgreSQL compiles
 * a statement whose *estimated* cost passes jit_above_cost, 10–20 ms of compiling that a statement
 * of a millisecond never repays. Estimates go that high without the work: a generic plan cannot
 * see an array parameter, and PostgreSQL puts an overlap (`&&`) with it at 0.5 % of the table; at
 * 1,000,000 persons the identity decision's read of ~7 candidate records was costed as 70,000 and
 * compiled every time (EXPLAIN ANALYZE: 19 ms of JIT, 2 ms of work; decision p50 25 ms). A
 * connection string's own `options` parameter replaces this.
 */
const SESSION_OPTIONS = '-c jit=off';

/**
 * PostgreSQL through a pool. `url` may list several hosts in libpq's form (hosts.ts): the pool then
 * follows the primary across failovers (primary-pool.ts). A statement that finds the server gone
 * fails with a DatabaseError that isDatabaseUnavailable recognises; the next one finds the primary.
 */
export async function openPostgres(url: string, max = 10): Promise<Database> {
  const pools = new PrimaryPool(parseHostList(url), { max, options: SESSION_OPTIONS });
  /** Runs fn on the current primary's pool, telling the pool when its server turned out to be gone. */
  const onPrimary = async <T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> => {
    const pool = await pools.current();
    try {
      return await fn(pool);
    } catch (err) {
      pools.failed(pool, err);
      throw err;
    }
  };
  // Fail fast with a clear message if the server is not there (the driver's own words: at start
  // they name the host or role, never a record).
  await onPrimary(async (pool) => {
    const probe = await pool.connect();
    probe.release();
  }).catch(async (err: unknown) => {
    await pools.end().catch(() => undefined);
    throw err;
  });
  const query = <T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> =>
    onPrimary(async (pool) => {
      const r = await run(pool, sql, params);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    });
  return {
    kind: 'postgres',
    query,
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> =>
      onPrimary((pool) => inTransaction(pool, fn, (err) => pools.failed(pool, err))),
    exec: (sql) => onPrimary(async (pool) => void (await run(pool, sql, undefined))),
    close: () => pools.end(),
  };
}

/**
 * Runs fn in one transaction on a connection of its own. If the server goes away at any point the
 * transaction is simply not committed: PostgreSQL discards it, so nothing is half-written.
 */
async function inTransaction<T>(
  pool: pg.Pool,
  fn: (tx: Queryable) => Promise<T>,
  /** told of a statement that found the server gone, even if fn turns that error into its own */
  onGone: (err: DatabaseError) => void,
): Promise<T> {
  const client = await pool.connect().catch((err: unknown) => {
    throw toDatabaseError(err, undefined);
  });
  // A connection lost mid-transaction is emitted on the client as well as failing the query:
  // without a listener that event would end the process.
  let lost = false;
  const onLost = () => void (lost = true);
  client.on('error', onLost);
  // fn may turn a lost server into an error of its own (the gate answers 'audit-unavailable'):
  // the pool learns of it here, from the statement itself.
  let gone = false;
  const track = async (sql: string, params: unknown[] | undefined) => {
    try {
      return await run(client, sql, params);
    } catch (err) {
      if (isDatabaseUnavailable(err)) {
        gone = true;
        onGone(err as DatabaseError);
      }
      throw err;
    }
  };
  try {
    await track('BEGIN', undefined);
    const tx: Queryable = {
      async query<R>(sql: string, params?: unknown[]) {
        const r = await track(sql, params);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
    };
    const result = await fn(tx);
    await track('COMMIT', undefined);
    return result;
  } catch (err) {
    if (!gone) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.off('error', onLost);
    client.release(lost || gone); // a lost connection is discarded, not returned to the pool
  }
}
