/**
 * Writing the audit trail. One call (the audit_append function of migration 006) advances a chain
 * head and inserts the event: PostgreSQL computes the new hash from the head's previous hash
 * (canonical.ts), so the writer never reads the head first. The chain is chosen from the
 * transaction id, so one transaction's events are consecutive on one chain and it holds one head
 * lock at a time (no deadlocks between writers), while concurrent transactions mostly land on
 * different chains instead of queueing on one row. The head's row lock is held until the caller's
 * transaction commits.
 *
 * Then the alert rules run on the event in the same transaction (alert-store.ts). If anything
 * fails, the error reaches the caller, whose transaction must fail: no data without its record.
 * Whether an earlier alert already covers a rule that needs no looked-up facts (out of hours, no
 * relationship) is asked in the append's own statement, so a night-time read costs no extra round
 * trip for its repeat check.
 *
 * A gated read (recordAccessEvent) runs no transaction: its reads are single statements, and the
 * append is one atomic statement, committed before any data leaves. Only when the event raises an
 * alert is the alert written, in a transaction of its own, before the caller may answer.
 */
import type { AuditConfig } from '../config/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { evaluateRules, needs, type AlertRule, type PersonFacts } from './alert-rules.ts';
import { alertCandidates, raiseAlerts, storeAlerts, type KnownRepeats } from './alert-store.ts';
import { canonicalEvent } from './canonical.ts';
import { auditSettings } from './settings.ts';
import type { AuditEvent, AuditEventInput, ChainPosition } from './types.ts';

const APPEND = `SELECT o_seq::text AS seq, o_chain::int AS chain, o_chain_seq::text AS "chainSeq", o_hash AS hash,
    o_recent_persons AS "recentPersons", o_recent_seen AS "recentSeen"
  FROM audit_append($1, $2::timestamptz, $3, $4, $5, $6, $7::uuid, $8::timestamptz)`;

/** The append, and which of the rules in $9 (windows from $10; by user only: $11) an alert already covers. */
const APPEND_CHECKED = `SELECT o_seq::text AS seq, o_chain::int AS chain, o_chain_seq::text AS "chainSeq", o_hash AS hash,
    o_recent_persons AS "recentPersons", o_recent_seen AS "recentSeen",
    ARRAY(SELECT d.rule FROM unnest($9::text[], $10::timestamptz[], $11::boolean[]) AS d(rule, since, by_user)
           WHERE EXISTS (SELECT 1 FROM audit_alert a WHERE a.user_id = $5 AND a.rule = d.rule
                           AND a.created_at > d.since AND (d.by_user OR a.person_id IS NOT DISTINCT FROM $7::uuid))
         ) AS repeats
  FROM audit_append($1, $2::timestamptz, $3, $4, $5, $6, $7::uuid, $8::timestamptz)`;

const APPEND_MANY = `SELECT a.o_seq::text AS seq, a.o_chain::int AS chain, a.o_chain_seq::text AS "chainSeq",
    a.o_hash AS hash, a.o_recent_persons AS "recentPersons", a.o_recent_seen AS "recentSeen"
  FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[],
      $8::timestamptz[]) WITH ORDINALITY AS e(event, at, action, outcome, user_id, org, person, since, n),
    LATERAL audit_append(e.event, e.at, e.action, e.outcome, e.user_id, e.org, e.person, e.since) a
  ORDER BY e.n`;

export interface RecordOptions {
  /** settings for the alert rules (default: those the server installed with configureAudit) */
  settings?: AuditConfig;
  /** the event's time (default: now); tests and imports only */
  now?: Date;
}

type Appended = ChainPosition & {
  recentPersons: number | null;
  recentSeen: boolean | null;
  repeats?: AlertRule[] | string | null;
};

/** The event as stored, and the parameters of its audit_append call. */
function prepare(input: AuditEventInput, rules: AuditConfig['alerts'], at: string) {
  const { returnedIds: _ids, ...rest } = input;
  const event: AuditEvent = { ...rest, at };
  const recentSince = needs(event, rules).recent
    ? new Date(new Date(at).getTime() - rules.manyRecords.minutes * 60_000).toISOString()
    : null;
  const params = [
    canonicalEvent(input, at),
    at,
    input.action,
    input.outcome,
    input.user?.id ?? null,
    input.user?.org ?? null,
    input.personId ?? null,
    recentSince,
  ];
  // the rules this event raises whatever the facts (out of hours, no relationship): is each a repeat?
  const checked: { rule: AlertRule; windowMinutes: number; byUser: boolean }[] = evaluateRules(event, rules)
    .filter((c) => c.dedupe !== 'none')
    .map((c) => ({ rule: c.rule, windowMinutes: c.windowMinutes, byUser: c.dedupe === 'user' }));
  // Many records turns on the user's recent count, which the append itself returns: whether an
  // earlier alert already covers this user is asked in the same statement. Asked afterwards, every
  // read by a user past the threshold cost a transaction of its own to learn it was a repeat: in
  // the soak, once its clinicians crossed it, opens went from three round trips to six and the
  // server fell into a backlog each time near the tenth minute (BENCHMARKS.md, Soak, 2026-12-07).
  if (recentSince)
    checked.push({ rule: 'many-records', windowMinutes: rules.manyRecords.minutes, byUser: true });
  const since = (minutes: number) => new Date(new Date(at).getTime() - minutes * 60_000).toISOString();
  const checks = [
    checked.map((c) => c.rule),
    checked.map((c) => since(c.windowMinutes)),
    checked.map((c) => c.byUser),
  ];
  return { event, recentSince, params, checked: checked.map((c) => c.rule), checks };
}

/** Appends one prepared event (one statement), and says which checked rules are repeats. */
async function appendOne(q: Queryable, prepared: ReturnType<typeof prepare>) {
  const checking = prepared.checked.length > 0;
  const { rows } = await q.query<Appended>(
    checking ? APPEND_CHECKED : APPEND,
    checking ? [...prepared.params, ...prepared.checks] : prepared.params,
  );
  const r = rows[0];
  if (!r?.seq) throw new Error('audit chain head is missing');
  // PGlite gives a text[] as an array; so does pg
  const repeats = new Set<string>(Array.isArray(r.repeats) ? r.repeats : []);
  const known: KnownRepeats = new Map(prepared.checked.map((rule) => [rule, repeats.has(rule)]));
  const { recentPersons, recentSeen, repeats: _r, ...pos } = r;
  const recent = prepared.recentSince
    ? { persons: recentPersons ?? 0, includesThis: recentSeen === true }
    : undefined;
  return { pos, recent, known };
}

/** Runs the alert rules on an appended event (same transaction). */
async function alertsFor(
  tx: Queryable,
  prepared: ReturnType<typeof prepare>,
  r: Appended | undefined,
  opts: RecordOptions & { settings: AuditConfig },
): Promise<ChainPosition & { alerts: number }> {
  if (!r?.seq) throw new Error('audit chain head is missing');
  const { recentPersons, recentSeen, repeats: _r, ...pos } = r;
  const recent = prepared.recentSince
    ? { persons: recentPersons ?? 0, includesThis: recentSeen === true }
    : undefined;
  const alerts = await raiseAlerts(
    tx,
    prepared.event,
    pos.seq,
    opts.settings.alerts,
    appendIn(tx, prepared, opts),
    recent,
  );
  return { ...pos, alerts };
}

/** each alert is itself recorded, at the time of the event that raised it */
const appendIn =
  (tx: Queryable, prepared: ReturnType<typeof prepare>, opts: RecordOptions & { settings: AuditConfig }) =>
  (input: AuditEventInput) =>
    recordAuditEvent(tx, input, { ...opts, now: new Date(prepared.event.at) });

/** Appends one event inside the caller's transaction. Throws if it cannot: the caller must fail. */
export async function recordAuditEvent(
  tx: Queryable,
  input: AuditEventInput,
  opts: RecordOptions = {},
): Promise<ChainPosition & { alerts: number }> {
  const settings = opts.settings ?? auditSettings();
  const prepared = prepare(input, settings.alerts, (opts.now ?? new Date()).toISOString());
  const { pos, recent, known } = await appendOne(tx, prepared);
  const alerts = await raiseAlerts(
    tx,
    prepared.event,
    pos.seq,
    settings.alerts,
    appendIn(tx, prepared, { ...opts, settings }),
    recent,
    known,
  );
  return { ...pos, alerts };
}

/**
 * Appends the event of a gated read, outside any transaction: one statement, committed when it
 * returns. The alerts it raises (rare: the first of their kind in a window) are written next, in a
 * transaction of their own; if that fails the caller fails too, and no data leaves. `person`: the
 * facts of the person read with the record (else looked up, as for any event). Throws if it cannot.
 */
export async function recordAccessEvent(
  db: Database,
  input: AuditEventInput,
  opts: RecordOptions & { person?: PersonFacts | undefined } = {},
): Promise<ChainPosition & { alerts: number }> {
  const settings = opts.settings ?? auditSettings();
  const prepared = prepare(input, settings.alerts, (opts.now ?? new Date()).toISOString());
  const { pos, recent, known } = await appendOne(db, prepared);
  const candidates = await alertCandidates(db, prepared.event, settings.alerts, recent, opts.person);
  if (candidates.every((c) => known.get(c.rule) === true)) return { ...pos, alerts: 0 };
  const alerts = await db.transaction((tx) =>
    storeAlerts(
      tx,
      prepared.event,
      pos.seq,
      candidates,
      appendIn(tx, prepared, { ...opts, settings }),
      known,
    ),
  );
  return { ...pos, alerts };
}

/**
 * Appends several events, in order, in one round trip (intake's identity events: a bulk load links
 * thousands of source records). Same chain and guarantees as recordAuditEvent, one event after another.
 */
export async function recordAuditEvents(
  tx: Queryable,
  inputs: AuditEventInput[],
  opts: RecordOptions = {},
): Promise<(ChainPosition & { alerts: number })[]> {
  if (inputs.length === 0) return [];
  const settings = opts.settings ?? auditSettings();
  const at = (opts.now ?? new Date()).toISOString();
  const prepared = inputs.map((input) => prepare(input, settings.alerts, at));
  const columns = prepared[0]!.params.map((_, k) => prepared.map((p) => p.params[k]));
  const { rows } = await tx.query<Appended>(APPEND_MANY, columns);
  if (rows.length !== inputs.length) throw new Error('audit events were not all appended');
  const out: (ChainPosition & { alerts: number })[] = [];
  for (const [k, p] of prepared.entries()) out.push(await alertsFor(tx, p, rows[k], { ...opts, settings }));
  return out;
}

/**
 * Appends the events of an administrative read or change, or refuses the request: if the trail
 * cannot take them (the database refuses the insert, the chain cannot be locked), what was read
 * does not leave and the caller is told to try again (503), as a clinical read is (src/gate).
 */
export async function recordAuditEventsOrRefuse(tx: Queryable, inputs: AuditEventInput[]): Promise<void> {
  try {
    await recordAuditEvents(tx, inputs);
  } catch {
    throw new SharedcareError(
      'audit-unavailable',
      'This could not be recorded in the audit trail, so nothing is returned. Try again shortly.',
    );
  }
}
