import { createHash } from 'node:crypto';

/**
 * Log-safe database errors. A driver error (pg or PGlite) carries the statement's values: its
 * message ('invalid input syntax for type uuid: "…"'), `detail` ('Failing row contains (…)'),
 * `where` ('unnamed portal parameter $1 = '…''), and for PGlite the `query` and `params`
 * themselves. Any of them may be clinical text. Both adapters turn every error a statement raises
 * into this class, which keeps only what names the failure, never what was stored: the SQLSTATE
 * code, the statement's name and the schema objects involved.
 */
export class DatabaseError extends Error {
  /** SQLSTATE ('23505'), a socket error (ECONNRESET), or 'connection' when the driver lost the server */
  readonly code: string;
  /** the prepared statement's name (sc_…, the same on both adapters) */
  readonly statement: string | undefined;
  readonly table: string | undefined;
  readonly constraint: string | undefined;

  constructor(
    code: string,
    statement: string | undefined,
    table?: string,
    constraint?: string,
    /** the text of one of our own triggers' exceptions (fixed wording, no values): see OWN_RAISES */
    raised?: string,
  ) {
    super(
      `database error ${code}${CONDITIONS[code] ? ` (${CONDITIONS[code]})` : ''}${raised ? `: ${raised}` : ''}${statement ? ` in statement ${statement}` : ''}`,
    );
    this.name = 'DatabaseError';
    this.code = code;
    this.statement = statement;
    this.table = table;
    this.constraint = constraint;
  }
}

/** Condition names for the codes worth naming (the full list is in PostgreSQL's errcodes). */
const CONDITIONS: Record<string, string> = {
  '23505': 'unique_violation',
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23514': 'check_violation',
  '22021': 'character_not_in_repertoire',
  '22P02': 'invalid_text_representation',
  '22P05': 'untranslatable_character',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
  '57P02': 'crash_shutdown',
  '57P03': 'cannot_connect_now',
  '25006': 'read_only_sql_transaction',
  '53300': 'too_many_connections',
  '42501': 'permission denied',
  connection: 'connection lost or refused',
};

const names = new Map<string, string>();

/** The name a statement runs under: a hash of its SQL text, stable across processes. */
export function statementName(sql: string): string {
  let name = names.get(sql);
  if (!name) {
    name = `sc_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    if (names.size < 5000) names.set(sql, name);
  }
  return name;
}

/**
 * What our own migrations' triggers raise (RAISE EXCEPTION, SQLSTATE P0001): fixed wording with at
 * most a table name, never a stored value, so it is kept. Anything else raised is dropped.
 */
const OWN_RAISES =
  /^(?:[a-z_]+ is append-only(?:: it cannot be truncated)?|audit_chain_base only moves forward|audit chain head is missing)$/;

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Node's socket error codes (ECONNRESET, ECONNREFUSED): a connection problem, named. */
const ERRNO = /^E[A-Z]{3,20}$/;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function identifier(v: unknown): string | undefined {
  return typeof v === 'string' && IDENTIFIER.test(v) ? v : undefined;
}

/** Any error a driver threw for `sql`, as a DatabaseError; DatabaseErrors pass through. */
export function toDatabaseError(err: unknown, sql: string | undefined): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const e = (err ?? {}) as { code?: unknown; table?: unknown; constraint?: unknown; message?: unknown };
  const code =
    typeof e.code === 'string' && (SQLSTATE.test(e.code) || ERRNO.test(e.code)) ? e.code : 'connection';
  return new DatabaseError(
    code,
    sql === undefined ? undefined : statementName(sql),
    identifier(e.table),
    identifier(e.constraint),
    e.code === 'P0001' && typeof e.message === 'string' && OWN_RAISES.test(e.message) ? e.message : undefined,
  );
}

/**
 * SQLSTATEs that say the server, not the statement, is the problem: connection exceptions (08…),
 * the server shutting down or starting (57P01–57P03), and a write sent to a standby (25006,
 * read_only_sql_transaction), which is what a connection left on a demoted primary sees.
 */
const UNAVAILABLE = /^(?:08...|57P0[123]|25006)$/;

/**
 * The database is unreachable or not the primary any more (a failover, a restart): the request may
 * succeed if sent again shortly. Socket errors (ECONNREFUSED…) and 'connection' (the driver lost
 * the server) count too.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof DatabaseError)) return false;
  return err.code === 'connection' || ERRNO.test(err.code) || UNAVAILABLE.test(err.code);
}

/** A unique violation (another transaction inserted the same key first). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof DatabaseError && err.code === '23505';
}

/** What a log line may say about any error: never a driver error's values. */
export function logSafeError(err: unknown): Record<string, unknown> {
  if (err instanceof DatabaseError)
    return {
      type: 'DatabaseError',
      message: err.message,
      code: err.code,
      statement: err.statement,
      table: err.table,
      constraint: err.constraint,
      stack: err.stack,
    };
  if (isDriverError(err)) return logSafeError(toDatabaseError(err, undefined));
  if (!(err instanceof Error)) return { type: typeof err };
  const e = err as Error & { code?: unknown; statusCode?: unknown };
  // JSON.parse's message quotes the text it could not parse; the stack's first line repeats it.
  const quotesInput = e instanceof SyntaxError;
  return {
    type: e.name,
    message: quotesInput ? 'message withheld (it may quote the input)' : e.message,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.statusCode === 'number' ? { statusCode: e.statusCode } : {}),
    stack: e.stack?.split('\n').slice(1).join('\n'),
  };
}

/** A pg / PGlite error object that did not come through an adapter (it has `severity` and a SQLSTATE). */
function isDriverError(err: unknown): boolean {
  const e = err as { severity?: unknown; code?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.severity === 'string' &&
    typeof e.code === 'string' &&
    SQLSTATE.test(e.code)
  );
}
