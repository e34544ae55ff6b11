/**
 * The rule that keeps Sharedcare distributable by person (docs/scale-out.md), read from a migrated
 * PostgreSQL schema and from the statements the server runs:
 *  - a person-keyed table (one with a person_id column) has person_id in its primary key and in
 *    every unique constraint or unique index;
 *  - a foreign key between two person-keyed tables includes person_id;
 *  - a statement on a person-keyed table names one person: `person_id = $n` in its filter, or
 *    person_id among the columns it inserts.
 * The kit for test/scale-out-rule.test.ts; the allow-list of today's exceptions, with reasons, is
 * there.
 */
import type { Database, Queryable, QueryResult } from '../src/db/index.ts';

export interface Violation {
  /** a stable key for the allow-list: "pk clinical_item", "fk objection_override_objection_id_fkey", … */
  key: string;
  detail: string;
}

export async function personKeyedTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    `SELECT c.table_name FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND c.column_name = 'person_id' AND t.table_type = 'BASE TABLE'
      ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

/** Primary keys, unique constraints and unique indexes of person-keyed tables without person_id. */
export async function keyViolations(db: Queryable): Promise<Violation[]> {
  const { rows } = await db.query<{ tbl: string; idx: string; is_pk: boolean; cols: string[] }>(
    `SELECT t.relname AS tbl, i.relname AS idx, x.indisprimary AS is_pk,
            array(SELECT a.attname::text FROM unnest((x.indkey::int2[])[0:x.indnkeyatts - 1]) k
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k) AS cols
       FROM pg_index x
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND x.indisunique
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'person_id' AND NOT a.attisdropped)
      ORDER BY 1, 2`,
  );
  const out: Violation[] = [];
  for (const r of rows)
    if (!r.cols.includes('person_id'))
      out.push({
        key: r.is_pk ? `pk ${r.tbl}` : `unique ${r.idx}`,
        detail: `${r.tbl} (${r.cols.join(', ')})`,
      });
  const tables = new Set(await personKeyedTables(db));
  const { rows: pkless } = await db.query<{ tbl: string }>(
    `SELECT c.relname AS tbl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r'
        AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisprimary)`,
  );
  for (const r of pkless)
    if (tables.has(r.tbl)) out.push({ key: `pk ${r.tbl}`, detail: `${r.tbl} has no primary key` });
  return out;
}

/** Foreign keys between two person-keyed tables that do not carry person_id. */
export async function foreignKeyViolations(db: Queryable): Promise<Violation[]> {
  const { rows } = await db.query<{ name: string; from_tbl: string; to_tbl: string; cols: string[] }>(
    `SELECT c.conname AS name, f.relname AS from_tbl, t.relname AS to_tbl,
            array(SELECT a.attname::text FROM unnest(c.conkey) k JOIN pg_attribute a
                    ON a.attrelid = c.conrelid AND a.attnum = k) AS cols
       FROM pg_constraint c
       JOIN pg_class f ON f.oid = c.conrelid
       JOIN pg_class t ON t.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = f.relnamespace
      WHERE c.contype = 'f' AND n.nspname = 'public'
      ORDER BY 1`,
  );
  const tables = new Set(await personKeyedTables(db));
  // the person table is keyed by person too: its id is the person_id of every other table
  tables.add('person');
  return rows
    .filter((r) => tables.has(r.from_tbl) && tables.has(r.to_tbl))
    .filter((r) => !r.cols.includes('person_id'))
    .map((r) => ({ key: `fk ${r.name}`, detail: `${r.from_tbl} (${r.cols.join(', ')}) → ${r.to_tbl}` }));
}

/** One statement as the server sent it, with its parameters. */
export interface Captured {
  sql: string;
  params: unknown[] | undefined;
}

/** The database, recording every statement run through it (and through its transactions). */
export function recording(db: Database): { db: Database; statements: Captured[] } {
  const statements: Captured[] = [];
  const wrap = (q: Queryable): Queryable => ({
    query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      statements.push({ sql, params });
      return q.query<T>(sql, params);
    },
  });
  return {
    statements,
    db: {
      ...db,
      kind: db.kind,
      query: wrap(db).query,
      transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
      exec: (sql) => db.exec(sql),
      close: () => db.close(),
    },
  };
}

const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/**
 * `recording`, with each transaction's BEGIN and COMMIT recorded as the statements they are, and
 * the statements of each committed transaction, whitespace folded, in order.
 */
export function recordingTransactions(db: Database): {
  db: Database;
  statements: Captured[];
  transactions(): string[][];
} {
  const rec = recording(db);
  const transaction: Database['transaction'] = async (fn) => {
    rec.statements.push({ sql: 'BEGIN', params: undefined });
    const out = await rec.db.transaction(fn);
    rec.statements.push({ sql: 'COMMIT', params: undefined });
    return out;
  };
  const transactions = (): string[][] => {
    const out: string[][] = [];
    let open: string[] | undefined;
    for (const { sql } of rec.statements) {
      if (sql === 'BEGIN') open = [];
      else if (sql === 'COMMIT') {
        if (open) out.push(open);
        open = undefined;
      } else open?.push(normalise(sql));
    }
    return out;
  };
  return { db: { ...rec.db, kind: db.kind, transaction }, statements: rec.statements, transactions };
}

/** The tables a statement reads or writes (FROM, JOIN, INTO, UPDATE, DELETE FROM). */
export function tablesOf(sql: string): string[] {
  const out = new Set<string>();
  for (const m of normalise(sql).matchAll(/\b(?:FROM|JOIN|INTO|UPDATE)\s+([a-z_][a-z0-9_]*)(?!\s*\()/gi))
    out.add(m[1]!.toLowerCase());
  return [...out];
}

/**
 * Whether a statement names one person: `person_id = $n` (any alias; `id = $n` on the person
 * table itself), or inserts person_id.
 */
export function namesOnePerson(sql: string, table: string): boolean {
  const s = normalise(sql);
  const key = table === 'person' ? '(?:person_)?id' : 'person_id';
  if (new RegExp(`\\b(?:[a-z_]+\\.)?${key}\\s*=\\s*\\$\\d+`, 'i').test(s)) return true;
  const insert = /^INSERT INTO\s+[a-z_]+\s*\(([^)]*)\)/i.exec(s);
  return insert !== null && insert[1]!.split(',').some((c) => c.trim() === 'person_id');
}

/** Statements on person-keyed tables that do not name one person, by table and statement text. */
export function statementViolations(statements: Captured[], personTables: ReadonlySet<string>): Violation[] {
  const seen = new Map<string, Violation>();
  for (const { sql } of statements) {
    for (const t of tablesOf(sql).filter((x) => personTables.has(x))) {
      if (namesOnePerson(sql, t)) continue;
      const v = { key: `statement ${t}: ${normalise(sql).slice(0, 80)}`, detail: normalise(sql) };
      seen.set(v.key, v);
    }
  }
  return [...seen.values()];
}

/**
 * The statements inside the plpgsql functions the captured statements call (audit_append,
 * identity_decision_read, …), as statements of their own: a function must not hide from the rule
 * what it runs. Each function's parameters become `$n` in its statements, as the caller's
 * parameters are in a statement sent directly.
 *
 * The split is by hand (no library parses plpgsql): comments dropped, the body cut at `;`, and
 * each piece's control words before its statement (BEGIN, IF … THEN, ELSE, LOOP) dropped. Enough
 * for the functions of our migrations; a statement it could not read would show up as text the
 * rule checks anyway.
 */
export async function withFunctionBodies(db: Queryable, statements: Captured[]): Promise<Captured[]> {
  const { rows } = await db.query<{ name: string; src: string; args: string[] | null }>(
    `SELECT p.proname AS name, p.prosrc AS src, p.proargnames AS args
       FROM pg_proc p JOIN pg_language g ON g.oid = p.prolang JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE g.lanname = 'plpgsql' AND n.nspname = current_schema() AND p.prorettype <> 'trigger'::regtype`,
  );
  const called = rows.filter((f) =>
    statements.some((s) => new RegExp(`\\b${f.name}\\s*\\(`, 'i').test(s.sql)),
  );
  return [...statements, ...called.flatMap((f) => functionStatements(f.src, f.args ?? []))];
}

const STATEMENT_START = /\b(SELECT|INSERT|UPDATE|DELETE|WITH|PERFORM)\b/i;

export function functionStatements(src: string, args: string[]): Captured[] {
  const body = src.replace(/--[^\n]*/g, '');
  return body
    .split(';')
    .map((piece): Captured | undefined => {
      const start = STATEMENT_START.exec(piece);
      if (!start || /^\s*DECLARE\b/i.test(piece.slice(0, start.index))) return undefined;
      let sql = piece.slice(start.index).replace(/^PERFORM\b/i, 'SELECT');
      args.forEach((a, i) => {
        sql = sql.replace(new RegExp(`\\b${a}\\b`, 'g'), () => `$${i + 1}`);
      });
      return { sql: normalise(sql), params: undefined };
    })
    .filter((c): c is Captured => c !== undefined);
}
