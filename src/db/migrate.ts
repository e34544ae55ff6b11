import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database, Queryable } from './types.ts';

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '..', '..', 'migrations');

const migrationFiles = (): string[] =>
  readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort();

/**
 * The migrations this database has not had, without changing anything (a server that connects as
 * the application's role cannot migrate: `sharedcare migrate` does, with the owner's URL).
 */
export async function pendingMigrations(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ present: boolean }>(
    `SELECT to_regclass('schema_migration') IS NOT NULL AS present`,
  );
  if (!rows[0]?.present) return migrationFiles();
  const done = new Set(
    (await db.query<{ name: string }>('SELECT name FROM schema_migration')).rows.map((r) => r.name),
  );
  return migrationFiles().filter((f) => !done.has(f));
}

/**
 * Applies migrations/NNN_name.sql in order, each once, each in its own transaction; `through`
 * stops after that one (a test that migrates a database holding data from an earlier schema).
 */
export async function migrate(db: Database, through?: string): Promise<string[]> {
  await db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const done = new Set(
    (await db.query<{ name: string }>('SELECT name FROM schema_migration')).rows.map((r) => r.name),
  );
  const files = migrationFiles().filter((f) => through === undefined || f <= through);
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file)) continue;
    const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
    await db.exec(`BEGIN;\n${sql}\n;INSERT INTO schema_migration (name) VALUES ('${file}');\nCOMMIT;`);
    applied.push(file);
  }
  return applied;
}
