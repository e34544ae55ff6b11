/**
 * Running as the application role (SHAREDCARE_DB_ROLE, normally `sharedcare_app` from migration
 * 006), which can neither update, delete nor truncate the audit trail. Migrations must run as the
 * login role (they create and alter tables), so the role is taken afterwards: this wraps an open,
 * migrated PostgreSQL database so that every transaction starts with `SET LOCAL ROLE`, and a
 * single query runs in a transaction of its own. PGlite has no roles: it is returned unchanged.
 *
 * (Setting the role once per pooled connection, in src/db, would save the extra statement per
 * transaction; this wrapper needs no change there.)
 */
import type { Database, Queryable } from '../db/index.ts';

export function withDatabaseRole(db: Database, role: string | undefined): Database {
  if (!role || db.kind !== 'postgres') return db;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`not a plain role name: ${role}`);
  const asRole = async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> =>
    db.transaction(async (tx) => {
      await tx.query(`SET LOCAL ROLE ${role}`);
      return fn(tx);
    });
  return {
    kind: db.kind,
    query: (sql, params) => asRole((tx) => tx.query(sql, params)),
    transaction: asRole,
    exec: (sql) => asRole(async (tx) => void (await tx.query(sql))),
    close: () => db.close(),
  };
}
