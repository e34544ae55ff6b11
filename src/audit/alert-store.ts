/**
 * Alerts: looking up what the rules need, storing what they raise (once per rule, user and person
 * in a window), listing them for the DPO and recording their review. An alert never changes: each
 * is recorded by an `audit.alert` event, and a review is appended (audit_alert_review) with its own
 * `audit.alert-review` event; whether an alert is open derives from that (alert-digest.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { getPerson, getPersonLinks, type Person, type PersonLink } from '../identity/index.ts';
import {
  evaluateRules,
  needs,
  type AlertCandidate,
  type AlertRule,
  type AlertSettings,
  type PersonFacts,
  type RuleFacts,
} from './alert-rules.ts';
import {
  alertDigest,
  digestMark,
  reviewDigest,
  type AlertFields,
  type ReviewFields,
} from './alert-digest.ts';
import type { AuditEvent, AuditEventInput, ChainPosition } from './types.ts';

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/**
 * Person facts change rarely (a new source record, a new label) and one clinician's visit reads a
 * record several times in a minute, so they are kept briefly per process.
 */
const FACTS_TTL_MS = 60_000;
const FACTS_MAX = 10_000;
const factsCache = new Map<string, { at: number; facts: PersonFacts | undefined }>();

export function clearAlertCaches(): void {
  factsCache.clear();
}

/** What the rules need about a person, from the person and their source records. */
export function personFactsOf(person: Person, links: PersonLink[]): PersonFacts {
  return {
    nhsNumber: person.nhsNumber,
    names: links.flatMap((l) =>
      (l.demographics.name ?? []).map((n) => ({ family: n.family, given: n.given ?? [] })),
    ),
    postcodes: links.flatMap((l) =>
      (l.demographics.address ?? []).flatMap((a) => (a.postalCode ? [a.postalCode] : [])),
    ),
    securityCodes: [
      ...new Set(
        links.flatMap((l) =>
          (l.demographics.meta?.security ?? [])
            .filter((c) => c.system === CONFIDENTIALITY && c.code)
            .map((c) => c.code!),
        ),
      ),
    ],
  };
}

async function personFacts(q: Queryable, personId: string): Promise<PersonFacts | undefined> {
  const hit = factsCache.get(personId);
  if (hit && Date.now() - hit.at < FACTS_TTL_MS) return hit.facts;
  const person = await getPerson(q, personId);
  const facts = person ? personFactsOf(person, await getPersonLinks(q, personId)) : undefined;
  if (factsCache.size >= FACTS_MAX) factsCache.delete(factsCache.keys().next().value!);
  factsCache.set(personId, { at: Date.now(), facts });
  return facts;
}

/** Appends an event to the trail in the caller's transaction (record.ts passes its own). */
export type AppendEvent = (input: AuditEventInput) => Promise<ChainPosition>;

/**
 * Which rules an event raises: the user's recent count comes from the append itself
 * (audit_append); person facts are the caller's (read with the record) or looked up here.
 */
export async function alertCandidates(
  q: Queryable,
  e: AuditEvent,
  s: AlertSettings,
  recent?: RuleFacts['recent'],
  person?: PersonFacts,
): Promise<AlertCandidate[]> {
  const need = needs(e, s);
  const facts: RuleFacts = {
    person: need.person ? (person ?? (await personFacts(q, e.personId!))) : undefined,
    recent,
  };
  return evaluateRules(e, s, facts);
}

/**
 * Whether an earlier alert of each rule already covers this event, where that was asked together
 * with the append (record.ts): rule → true (a repeat) or false (none in its window).
 */
export type KnownRepeats = ReadonlyMap<AlertRule, boolean>;

/** Stores what the rules raised for an event just written (same transaction). */
export async function storeAlerts(
  tx: Queryable,
  e: AuditEvent,
  eventSeq: string,
  candidates: AlertCandidate[],
  append: AppendEvent,
  known: KnownRepeats = new Map(),
): Promise<number> {
  let raised = 0;
  for (const c of candidates) raised += await storeAlert(tx, e, eventSeq, c, append, known.get(c.rule));
  return raised;
}

/** Runs the rules for an event just written (same transaction) and stores what they raise. */
export async function raiseAlerts(
  tx: Queryable,
  e: AuditEvent,
  eventSeq: string,
  s: AlertSettings,
  append: AppendEvent,
  recent?: RuleFacts['recent'],
  known?: KnownRepeats,
): Promise<number> {
  return storeAlerts(tx, e, eventSeq, await alertCandidates(tx, e, s, recent), append, known);
}

/** Once per rule, user (and person) in the window; recorded by an `audit.alert` event first. */
async function storeAlert(
  tx: Queryable,
  e: AuditEvent,
  eventSeq: string,
  c: AlertCandidate,
  append: AppendEvent,
  /** already known (asked with the append): a repeat, or not */
  repeat?: boolean,
): Promise<number> {
  if (c.dedupe !== 'none' && (repeat ?? (await isRepeat(tx, e, c)))) return 0;
  const alert: AlertFields = {
    id: randomUUID(),
    createdAt: e.at,
    rule: c.rule,
    eventSeq,
    userId: e.user?.id ?? null,
    userOrg: e.user?.org ?? null,
    userRole: e.user?.role ?? null,
    personId: e.personId?.toLowerCase() ?? null,
    summary: c.summary,
  };
  const pos = await append({
    action: 'audit.alert',
    outcome: 'success',
    detail: `alert ${alert.id} (${c.rule}) raised by event ${eventSeq}; ${digestMark(alertDigest(alert))}`,
  });
  await tx.query(
    `INSERT INTO audit_alert (id, created_at, rule, event_seq, user_id, user_org, user_role, person_id, summary,
       record_chain, record_seq)
     VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8::uuid, $9, $10, $11)`,
    [
      alert.id,
      alert.createdAt,
      alert.rule,
      eventSeq,
      alert.userId,
      alert.userOrg,
      alert.userRole,
      alert.personId,
      alert.summary,
      pos.chain,
      pos.chainSeq,
    ],
  );
  return 1;
}

/** An earlier alert of the same rule for this user (and person) within the rule's window. */
async function isRepeat(tx: Queryable, e: AuditEvent, c: AlertCandidate): Promise<boolean> {
  const since = new Date(new Date(e.at).getTime() - c.windowMinutes * 60_000).toISOString();
  const { rows } = await tx.query(
    `SELECT 1 FROM audit_alert a WHERE a.user_id = $1 AND a.rule = $2 AND a.created_at > $3::timestamptz
       AND ($4::boolean OR a.person_id IS NOT DISTINCT FROM $5::uuid) LIMIT 1`,
    [e.user?.id ?? null, c.rule, since, c.dedupe === 'user', e.personId ?? null],
  );
  return rows.length > 0;
}

export interface Alert {
  id: string;
  createdAt: string;
  rule: AlertRule;
  eventSeq: string;
  userId: string | null;
  userOrg: string | null;
  userRole: string | null;
  personId: string | null;
  summary: string;
  /** derived: reviewed once a review row exists (audit_alert_review), else open */
  status: 'open' | 'reviewed';
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewNote: string | null;
}

const ALERT_COLUMNS = `a.id, a.created_at AS "createdAt", a.rule, a.event_seq::text AS "eventSeq", a.user_id AS "userId",
  a.user_org AS "userOrg", a.user_role AS "userRole", a.person_id::text AS "personId", a.summary,
  CASE WHEN r.alert_id IS NULL THEN 'open' ELSE 'reviewed' END AS status,
  r.reviewed_by AS "reviewedBy", r.at AS "reviewedAt", r.note AS "reviewNote"`;
const ALERTS = 'audit_alert a LEFT JOIN audit_alert_review r ON r.alert_id = a.id';

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : (v as string | null));
const fixDates = (a: Alert): Alert => ({ ...a, createdAt: iso(a.createdAt)!, reviewedAt: iso(a.reviewedAt) });

export async function listAlerts(
  q: Queryable,
  opts: { status?: 'open' | 'reviewed' | 'all'; limit?: number } = {},
): Promise<Alert[]> {
  const status = opts.status ?? 'open';
  const { rows } = await q.query<Alert>(
    `SELECT ${ALERT_COLUMNS} FROM ${ALERTS}
     WHERE $1 = 'all' OR ($1 = 'open') = (r.alert_id IS NULL) ORDER BY a.created_at DESC, a.id LIMIT $2`,
    [status, opts.limit ?? 1000],
  );
  return rows.map(fixDates);
}

/**
 * Reviews an alert: appends the review (an alert is reviewed once), recorded by the event that
 * `record` appends with the review's digest in its detail. Nothing is updated.
 */
export async function reviewAlert(
  q: Queryable,
  id: string,
  by: string,
  note: string,
  record: (detail: string, alert: Alert) => Promise<ChainPosition>,
  now = new Date(),
): Promise<Alert> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new SharedcareError('not-found', 'no alert with that id');
  const { rows } = await q.query<Alert>(`SELECT ${ALERT_COLUMNS} FROM ${ALERTS} WHERE a.id = $1::uuid`, [id]);
  const alert = rows[0];
  if (!alert) throw new SharedcareError('not-found', 'no alert with that id');
  if (alert.status === 'reviewed')
    throw new SharedcareError('conflict', 'that alert has already been reviewed');
  const review: ReviewFields = { alertId: alert.id, at: now.toISOString(), by, note };
  const pos = await record(
    `alert ${alert.id} (${alert.rule}) reviewed: ${note}; ${digestMark(reviewDigest(review))}`,
    fixDates(alert),
  );
  try {
    await q.query(
      `INSERT INTO audit_alert_review (alert_id, at, reviewed_by, note, record_chain, record_seq)
       VALUES ($1::uuid, $2::timestamptz, $3, $4, $5, $6)`,
      [alert.id, review.at, by, note, pos.chain, pos.chainSeq],
    );
  } catch (err) {
    if ((err as { code?: string }).code === '23505')
      throw new SharedcareError('conflict', 'that alert has already been reviewed');
    throw err;
  }
  return fixDates({ ...alert, status: 'reviewed', reviewedBy: by, reviewedAt: review.at, reviewNote: note });
}
