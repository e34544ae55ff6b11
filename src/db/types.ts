/** The one small database interface every module uses. PostgreSQL and PGlite both implement it. */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction: committed if fn resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Embedded PGlite only: a consistent copy of the data folder as a gzipped tar, taken while it
   * serves (no transaction is in flight during the copy; see src/db/pglite.ts).
   */
  dumpDataDir?(): Promise<Uint8Array>;
}
