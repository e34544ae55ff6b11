/**
 * Alerts: looking up what the rules need, storing what they raise (once per rule, user and person
 * in a window), listing them for the DPO and marking them reviewed.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { getPerson, getPersonLinks } from '../identity/index.ts';
import {
  evaluateRules,
  needs,
  type AlertCandidate,
  type AlertRule,
  type AlertSettings,
  type PersonFacts,
  type RuleFacts,
} from './alert-rules.ts';
import type { AuditEvent } from './types.ts';

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

async function personFacts(q: Queryable, personId: string): Promise<PersonFacts | undefined> {
  const hit = factsCache.get(personId);
  if (hit && Date.now() - hit.at < FACTS_TTL_MS) return hit.facts;
  const person = await getPerson(q, personId);
  let facts: PersonFacts | undefined;
  if (person) {
    const links = await getPersonLinks(q, personId);
    facts = {
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
  if (factsCache.size >= FACTS_MAX) factsCache.delete(factsCache.keys().next().value!);
  factsCache.set(personId, { at: Date.now(), facts });
  return facts;
}

/**
 * Runs the rules for an event just written (same transaction) and stores what they raise. The
 * user's recent count comes from the append itself (audit_append); person facts are looked up here.
 */
export async function raiseAlerts(
  tx: Queryable,
  e: AuditEvent,
  eventSeq: string,
  s: AlertSettings,
  recent?: RuleFacts['recent'],
): Promise<number> {
  const need = needs(e, s);
  const facts: RuleFacts = {
    person: need.person ? await personFacts(tx, e.personId!) : undefined,
    recent,
  };
  let raised = 0;
  for (const c of evaluateRules(e, s, facts)) raised += await storeAlert(tx, e, eventSeq, c);
  return raised;
}

async function storeAlert(
  tx: Queryable,
  e: AuditEvent,
  eventSeq: string,
  c: AlertCandidate,
): Promise<number> {
  const since =
    c.dedupe === 'none' ? null : new Date(new Date(e.at).getTime() - c.windowMinutes * 60_000).toISOString();
  const { rowCount } = await tx.query(
    `INSERT INTO audit_alert (id, created_at, rule, event_seq, user_id, user_org, user_role, person_id, summary)
     SELECT $1, $2::timestamptz, $3, $4, $5, $6, $7, $8::uuid, $9
     WHERE $10::timestamptz IS NULL OR NOT EXISTS (
       SELECT 1 FROM audit_alert a WHERE a.user_id = $5 AND a.rule = $3 AND a.created_at > $10::timestamptz
         AND ($11::boolean OR a.person_id IS NOT DISTINCT FROM $8::uuid))`,
    [
      randomUUID(),
      e.at,
      c.rule,
      eventSeq,
      e.user?.id ?? null,
      e.user?.org ?? null,
      e.user?.role ?? null,
      e.personId ?? null,
      c.summary,
      since,
      c.dedupe === 'user',
    ],
  );
  return rowCount;
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
  status: 'open' | 'reviewed';
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewNote: string | null;
}

const ALERT_COLUMNS = `id, created_at AS "createdAt", rule, event_seq::text AS "eventSeq", user_id AS "userId",
  user_org AS "userOrg", user_role AS "userRole", person_id::text AS "personId", summary, status,
  reviewed_by AS "reviewedBy", reviewed_at AS "reviewedAt", review_note AS "reviewNote"`;

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : (v as string | null));
const fixDates = (a: Alert): Alert => ({ ...a, createdAt: iso(a.createdAt)!, reviewedAt: iso(a.reviewedAt) });

export async function listAlerts(
  q: Queryable,
  opts: { status?: 'open' | 'reviewed' | 'all'; limit?: number } = {},
): Promise<Alert[]> {
  const status = opts.status ?? 'open';
  const { rows } = await q.query<Alert>(
    `SELECT ${ALERT_COLUMNS} FROM audit_alert
     WHERE $1 = 'all' OR status = $1 ORDER BY created_at DESC, id LIMIT $2`,
    [status, opts.limit ?? 1000],
  );
  return rows.map(fixDates);
}

export async function reviewAlert(q: Queryable, id: string, by: string, note: string): Promise<Alert> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new SharedcareError('not-found', 'no alert with that id');
  const { rows } = await q.query<Alert>(
    `UPDATE audit_alert SET status = 'reviewed', reviewed_by = $2, reviewed_at = now(), review_note = $3
     WHERE id = $1::uuid AND status = 'open' RETURNING ${ALERT_COLUMNS}`,
    [id, by, note],
  );
  if (rows[0]) return fixDates(rows[0]);
  const exists = await q.query('SELECT 1 FROM audit_alert WHERE id = $1::uuid', [id]);
  if (exists.rows.length) throw new SharedcareError('conflict', 'that alert has already been reviewed');
  throw new SharedcareError('not-found', 'no alert with that id');
}
