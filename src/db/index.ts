import { mkdirSync } from 'node:fs';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import type { Database } from './types.ts';

export type { Database, Queryable, QueryResult } from './types.ts';
export { migrate } from './migrate.ts';
export { DataDirInUseError } from './lock.ts';
export { pgliteDatabase } from './pglite.ts';
export { openPostgres } from './postgres.ts';

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** PGlite data folder; undefined = in memory. */
  dataDir?: string | undefined;
}

/** Opens PostgreSQL when a URL is given, else embedded PGlite, and brings the schema up to date. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let db: Database;
  if (opts.databaseUrl) db = await openPostgres(opts.databaseUrl);
  else {
    if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
    db = await openPglite(opts.dataDir);
  }
  await migrate(db);
  return db;
}
