import { mkdirSync } from 'node:fs';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import type { Database } from './types.ts';

export type { Database, Queryable, QueryResult } from './types.ts';
export { migrate, pendingMigrations } from './migrate.ts';
export { DataDirInUseError, isRunning } from './lock.ts';
export { pgliteDatabase, restorePglite } from './pglite.ts';
export { openPostgres } from './postgres.ts';

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** PGlite data folder; undefined = in memory. */
  dataDir?: string | undefined;
  /** bring the schema up to date (default); false for a server connecting as the application's role */
  migrate?: boolean;
}

/** Opens PostgreSQL when a URL is given, else embedded PGlite, and (unless told not to) migrates. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let db: Database;
  if (opts.databaseUrl) db = await openPostgres(opts.databaseUrl);
  else {
    if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
    db = await openPglite(opts.dataDir);
  }
  if (opts.migrate !== false) await migrate(db);
  return db;
}
export {
  DatabaseError,
  isDatabaseUnavailable,
  isUniqueViolation,
  logSafeError,
  statementName,
  toDatabaseError,
} from './errors.ts';
export { readOne, readTogether, type Decoded, type Fragment } from './compose.ts';
export { lockKeysForTransaction } from './advisory.ts';
