/**
 * A connection pool that follows the primary across failovers.
 *
 * node-postgres has no multi-host support (see hosts.ts), so this does by hand, in a few lines,
 * what libpq does with `host=a,b target_session_attrs=read-write`: try each host in order, keep the
 * first whose session is acceptable (`SELECT pg_is_in_recovery()` and `transaction_read_only`), and
 * pool connections to it. When a statement shows that server is gone or has become a standby (an
 * unavailable error: see isDatabaseUnavailable), the pool is dropped and the next statement looks
 * for the primary again. Until one answers, every statement fails at once with a DatabaseError
 * ('connection'), which the API answers with 503: nothing waits on a dead host.
 *
 * With one host and no target_session_attrs there is nothing to choose: the one pool stays, and
 * node-postgres replaces its broken connections by itself, as before.
 */
import pg from 'pg';
import { DatabaseError, isDatabaseUnavailable, toDatabaseError } from './errors.ts';
import type { HostList } from './hosts.ts';

/** How long a host may take to accept a connection before the next is tried. */
const CONNECT_TIMEOUT_MS = 3000;

/**
 * How long an unused connection is kept. The driver's default (10 s) closed connections in every
 * lull of a busy day and opened new ones at the next burst: in the soak the server's connections
 * went 4 → 10 → 4 within a minute, and each new one is a new PostgreSQL backend, with its catalog
 * caches cold and every prepared statement parsed and planned again (the first 10 s of every soak
 * run, with the pool filling, cost the database 1.7× the CPU of the minutes after). Five minutes
 * keeps a working day's connections and still gives them back at night.
 */
const IDLE_MS = 5 * 60_000;

export class PrimaryPool {
  private pool: pg.Pool | undefined;
  private finding: Promise<pg.Pool> | undefined;
  private readonly follows: boolean;
  /** after end(): statements fail, as they did on a pg.Pool that was ended (no new pool is found) */
  private closed = false;

  constructor(
    private readonly hosts: HostList,
    private readonly options: pg.PoolConfig,
  ) {
    this.follows = hosts.urls.length > 1 || hosts.attrs !== 'any';
  }

  /** The pool of the current primary, found first if need be; rejects with a DatabaseError. */
  current(): Promise<pg.Pool> {
    if (this.closed) {
      const err = new DatabaseError('connection', undefined);
      err.message = 'the database connection pool has been closed';
      return Promise.reject(err);
    }
    if (this.pool) return Promise.resolve(this.pool);
    // concurrent callers share one search
    this.finding ??= this.find().finally(() => (this.finding = undefined));
    return this.finding;
  }

  /** `err` came from a statement on `pool`: if it says the server is gone, find the primary again. */
  failed(pool: pg.Pool, err: unknown): void {
    if (!this.follows || this.pool !== pool || !isDatabaseUnavailable(err)) return;
    this.pool = undefined;
    // Clients still checked out fail on their own and are released; end() waits for them.
    pool.end().catch(() => undefined);
  }

  async end(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private async find(): Promise<pg.Pool> {
    for (const url of this.hosts.urls) {
      if (this.follows && !(await this.accepts(url))) continue;
      const pool = new pg.Pool({
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        idleTimeoutMillis: IDLE_MS,
        keepAlive: true,
        ...this.options,
        connectionString: url,
      });
      // An idle connection whose server died is reported here; without a listener the error would
      // end the process. Only the code is looked at (the driver's text may quote values).
      pool.on('error', (err) => this.failed(pool, toDatabaseError(err, undefined)));
      if (this.closed) {
        await pool.end();
        break;
      }
      this.pool = pool;
      return pool;
    }
    const err = new DatabaseError('connection', undefined);
    err.message = `no database host accepts ${this.hosts.attrs} sessions (tried ${this.hosts.names.join(', ')})`;
    throw err;
  }

  /** Whether the host at `url` answers with a session of the kind asked for. */
  private async accepts(url: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (this.hosts.attrs === 'any') return true;
      const { rows } = await client.query<{ recovery: boolean; read_only: string }>(
        `SELECT pg_is_in_recovery() AS recovery, current_setting('transaction_read_only') AS read_only`,
      );
      const r = rows[0];
      return !!r && !r.recovery && (this.hosts.attrs === 'primary' || r.read_only === 'off');
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
