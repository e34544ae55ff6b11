/**
 * The production start-up check of the database role, read from PostgreSQL's catalogue over the
 * server's own connection. The trail is only append-only if the server cannot become anything
 * that may change it: so the check looks at every role the connection can become (its login role,
 * and every role that login is a member of, which `SET ROLE` or `RESET ROLE` reaches), not only
 * the role it takes with SHAREDCARE_DB_ROLE. None of them may be a superuser, hold CREATEROLE
 * (on PostgreSQL 15 that grants itself any role), own the tables, or hold UPDATE, DELETE,
 * TRUNCATE or TRIGGER on an audit table. Migrations run separately, with the owner's URL
 * (`sharedcare migrate`), so the server never needs the owner's credentials.
 */
import type { Queryable } from '../db/index.ts';

/**
 * Privileges the application legitimately needs on an audit table: advancing a chain head is an
 * UPDATE of its row (verification recomputes every head from the events, so a changed head is
 * caught). Alerts and their reviews are append-only (a review is a row of its own), so nothing else.
 */
const NEEDED: Record<string, string[]> = {
  audit_chain_head: ['UPDATE'],
};
const FORBIDDEN = ['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER'];

interface Reach {
  rolname: string;
  rolsuper: boolean;
  rolcreaterole: boolean;
}

async function reachableRoles(q: Queryable): Promise<{ login: string; reach: Reach[] }> {
  const { rows } = await q.query<Reach & { login: string }>(
    `SELECT session_user::text AS login, r.rolname::text AS rolname, r.rolsuper, r.rolcreaterole
       FROM pg_catalog.pg_roles r
      WHERE pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
      ORDER BY r.rolname <> session_user, r.rolname`,
  );
  return { login: rows[0]?.login ?? '?', reach: rows };
}

const through = (login: string, role: string) =>
  role === login ? `${login}` : `${login} (which can SET ROLE or RESET ROLE to ${role})`;

async function auditPrivilegeProblems(q: Queryable, login: string, roles: string[]): Promise<string[]> {
  const { rows } = await q.query<{ tbl: string; role: string; priv: string }>(
    `SELECT c.relname::text AS tbl, r AS role, p AS priv
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
       CROSS JOIN unnest($1::text[]) AS r
       CROSS JOIN unnest($2::text[]) AS p
      WHERE c.relkind IN ('r', 'p') AND c.relname LIKE 'audit\\_%'
        AND pg_catalog.has_table_privilege(r, c.oid, p)
      ORDER BY 1, 2, 3`,
    [roles, FORBIDDEN],
  );
  const found = new Map<string, Set<string>>();
  for (const { tbl, role, priv } of rows) {
    if (NEEDED[tbl]?.includes(priv)) continue;
    const key = `${tbl}\0${role}`;
    found.set(key, (found.get(key) ?? new Set()).add(priv));
  }
  return [...found].map(([key, privs]) => {
    const [tbl, role] = key.split('\0') as [string, string];
    return `the server's database role ${through(login, role)} may ${[...privs].join(', ')} ${tbl}: the audit trail must be append-only for it`;
  });
}

/**
 * Every problem with the role the server runs as, one line each, naming the role and the fix.
 * `setRole` is SHAREDCARE_DB_ROLE, taken with SET LOCAL ROLE in every transaction, if any.
 */
export async function databaseRoleProblems(q: Queryable, setRole: string | undefined): Promise<string[]> {
  const problems: string[] = [];
  const { login, reach } = await reachableRoles(q);
  if (setRole) {
    const { rows } = await q.query<{ ok: boolean }>(
      `SELECT pg_catalog.pg_has_role(session_user, oid, 'MEMBER') AS ok FROM pg_catalog.pg_roles WHERE rolname = $1`,
      [setRole],
    );
    if (rows.length === 0)
      problems.push(
        `SHAREDCARE_DB_ROLE names the role ${setRole}, which does not exist in this database cluster`,
      );
    else if (!rows[0]!.ok)
      problems.push(
        `SHAREDCARE_DB_ROLE is ${setRole}, but ${login} is not a member of it (GRANT ${setRole} TO ${login})`,
      );
  }
  for (const r of reach) {
    if (r.rolsuper)
      problems.push(
        `the server's database role ${through(login, r.rolname)} is a superuser: connect as a role made for the server (docs/security.md)`,
      );
    else if (r.rolcreaterole)
      problems.push(
        `the server's database role ${through(login, r.rolname)} has CREATEROLE, so it could grant itself the tables' owner`,
      );
  }
  const { rows: owners } = await q.query<{ owner: string }>(
    `SELECT DISTINCT pg_catalog.pg_get_userbyid(c.relowner)::text AS owner
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
      WHERE c.relkind IN ('r', 'p') ORDER BY 1`,
  );
  const names = new Set(reach.map((r) => r.rolname));
  for (const { owner } of owners)
    if (names.has(owner))
      problems.push(
        `the server's database role ${through(login, owner)} owns the tables: connect as a role that does not, and run migrations separately with the owner's URL (sharedcare migrate)`,
      );
  const unprivileged = reach.filter((r) => !r.rolsuper && !owners.some((o) => o.owner === r.rolname));
  problems.push(
    ...(await auditPrivilegeProblems(
      q,
      login,
      unprivileged.map((r) => r.rolname),
    )),
  );
  return problems;
}
