/**
 * The alert rules: pure functions from one event (and facts looked up for it) to the alerts it
 * raises. They run as each event is written (alert-store.ts), with no queue and no lag: in the
 * writer's transaction, or, for a gated read whose append commits on its own, in a transaction
 * of their own before the read answers (record.ts recordAccessEvent).
 */
import type { AuditConfig } from '../config/index.ts';
import { ACCESS_ACTIONS, type AuditEvent } from './types.ts';

export type AlertRule =
  | 'break-glass'
  | 'no-relationship'
  | 'own-record'
  | 'same-surname-address'
  | 'same-surname'
  | 'many-records'
  | 'out-of-hours'
  | 'protected-person'
  | 'objection-override';

export const ALERT_RULES: Record<AlertRule, string> = {
  'break-glass': 'Break glass: access without a relationship, for a stated reason',
  'no-relationship': 'Access to, or an attempt at, a record without a legitimate relationship',
  'own-record': "The user's name matches the person's: possibly their own record",
  'same-surname-address':
    'The user shares a surname and a home postcode with the person: possibly a relative or a neighbour',
  'same-surname': 'The user shares a surname with the person',
  'many-records': 'Many different records opened by one user in a short time',
  'out-of-hours': 'Access outside working hours',
  'protected-person': 'Access to a person flagged as needing extra protection',
  'objection-override': "A person's objection to sharing was overridden",
};

export type AlertSettings = AuditConfig['alerts'];

/** What the rules may need about the person, looked up only when a rule asks for it. */
export interface PersonFacts {
  nhsNumber: string | null;
  names: { family?: string | undefined; given: string[] }[];
  /** postcodes of the person's addresses in any source record */
  postcodes: string[];
  /** Patient.meta.security codes from any source record (v3-Confidentiality R, V, …) */
  securityCodes: string[];
}

export interface RuleFacts {
  person?: PersonFacts | undefined;
  /** different people this user touched in the many-records window before this event */
  recent?: { persons: number; includesThis: boolean } | undefined;
}

export interface AlertCandidate {
  rule: AlertRule;
  summary: string;
  /** which earlier alerts make this one a repeat: none, same user, or same user and person */
  dedupe: 'none' | 'user' | 'user-person';
  /** minutes an earlier alert of the same kind suppresses this one */
  windowMinutes: number;
}

const TITLES = new Set(['dr', 'mr', 'mrs', 'ms', 'miss', 'mx', 'prof', 'professor', 'sir', 'dame', 'rev']);

const norm = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');

/** A UK postcode compared loosely: case and spaces aside ("ls1 4ap" = "LS14AP"). */
export const normPostcode = (s: string) => s.replace(/\s+/g, '').toUpperCase();

/** A display name ("Dr Alex Jones") as given names and a family name, titles dropped. */
export function splitName(display: string): { given: string[]; family: string } | undefined {
  const parts = display
    .split(/[\s,]+/)
    .map(norm)
    .filter(Boolean);
  while (parts.length > 1 && TITLES.has(parts[0]!)) parts.shift();
  if (parts.length < 2) return undefined;
  return { given: parts.slice(0, -1), family: parts.at(-1)! };
}

const zoned = new Map<string, Intl.DateTimeFormat>();

type LocalTime = Readonly<{ date: string; weekday: number; hhmm: string }>;

/**
 * The last answer per time zone, by UTC minute: every access event is checked against the
 * out-of-hours rule, and `formatToParts` was about 2 % of the server's busy time in the soak (100
 * record opens a second, all within the same few minutes). Every zone's offset from UTC is a
 * whole number of minutes (today's, and since 1972 everywhere), so one UTC minute is one local
 * minute.
 */
const lastMinute = new Map<string, { minute: number; value: LocalTime }>();

/** Local date (YYYY-MM-DD), ISO weekday (1 = Monday) and HH:MM of an instant in a time zone. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const minute = Math.floor(at.getTime() / 60_000);
  const last = lastMinute.get(timeZone);
  if (last && last.minute === minute) return last.value;
  let f = zoned.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    zoned.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday!) + 1;
  const value = Object.freeze({
    date: `${p.year}-${p.month}-${p.day}`,
    weekday,
    hhmm: `${p.hour}:${p.minute}`,
  });
  if (Number.isFinite(minute)) lastMinute.set(timeZone, { minute, value });
  return value;
}

export function isOutOfHours(at: Date, s: AlertSettings['outOfHours']): boolean {
  const t = localTime(at, s.timezone);
  if (!s.days.includes(t.weekday) || s.holidays.includes(t.date)) return true;
  return t.hhmm < s.start || t.hhmm >= s.end;
}

/** Does the rule set need the person's facts, or the user's recent count, for this event? */
export function needs(e: AuditEvent, s: AlertSettings): { person: boolean; recent: boolean } {
  const access = ACCESS_ACTIONS.has(e.action) && !!e.personId && !!e.user && e.outcome !== 'error';
  return {
    person: access && (((s.sameName || s.sameAddress) && !!e.user?.name) || s.protectedPersons.enabled),
    recent: access && s.manyRecords.enabled,
  };
}

export function evaluateRules(e: AuditEvent, s: AlertSettings, facts: RuleFacts = {}): AlertCandidate[] {
  const out: AlertCandidate[] = [];
  const who = e.user ? `${e.user.id} (${e.user.role}, ${e.user.org})` : 'the system';
  const add = (
    rule: AlertRule,
    summary: string,
    dedupe: AlertCandidate['dedupe'],
    window = s.dedupeMinutes,
  ) => out.push({ rule, summary, dedupe, windowMinutes: dedupe === 'none' ? 0 : window });

  if (e.action === 'objection.override' && s.objectionOverride && e.outcome === 'success')
    add('objection-override', `Objection overridden by ${who}${e.detail ? `: ${e.detail}` : ''}`, 'none');
  if (e.action === 'break-glass' && s.breakGlass && e.outcome === 'success')
    add('break-glass', `Break glass by ${who}${e.detail ? `: ${e.detail}` : ''}`, 'none');

  const access = ACCESS_ACTIONS.has(e.action) && !!e.personId && !!e.user && e.outcome !== 'error';
  if (!access) return out;
  const reasons = e.reasons ?? [];

  if (s.noRelationship) {
    if (e.action === 'access.refused' && reasons.includes('no-relationship'))
      add(
        'no-relationship',
        `${who} asked for a record without a legitimate relationship (refused)`,
        'user-person',
      );
    else if (e.action !== 'break-glass' && (e.basis === 'break-glass' || reasons.includes('break-glass')))
      add('no-relationship', `${who} read a record under break glass, without a relationship`, 'user-person');
  }

  if (s.outOfHours.enabled && !s.outOfHours.exemptOrganisations.includes(e.user!.org)) {
    const at = new Date(e.at);
    if (isOutOfHours(at, s.outOfHours)) {
      const t = localTime(at, s.outOfHours.timezone);
      add(
        'out-of-hours',
        `${who} accessed a record at ${t.hhmm} on ${t.date} (${s.outOfHours.timezone})`,
        'user-person',
      );
    }
  }

  const person = facts.person;
  if (person && s.protectedPersons.enabled) {
    const flagged = person.securityCodes.filter((c) => s.protectedPersons.securityCodes.includes(c));
    const listed = !!person.nhsNumber && s.protectedPersons.nhsNumbers.includes(person.nhsNumber);
    if (flagged.length || listed)
      add(
        'protected-person',
        `${who} accessed a person needing extra protection (${[...flagged.map((c) => `security label ${c}`), ...(listed ? ['on the protected list'] : [])].join(', ')})`,
        'user-person',
      );
  }

  const user = e.user?.name ? splitName(e.user.name) : undefined;
  if (person && user && (s.sameName || s.sameAddress)) {
    const families = person.names.map((n) => norm(n.family ?? '')).filter(Boolean);
    if (families.includes(user.family)) {
      const own = person.names.some(
        (n) => norm(n.family ?? '') === user.family && n.given.map(norm).includes(user.given[0]!),
      );
      const postcode = e.user?.postcode ? normPostcode(e.user.postcode) : undefined;
      const sameAddress = !!postcode && person.postcodes.map(normPostcode).includes(postcode);
      if (own && s.sameName)
        add(
          'own-record',
          `${who} accessed a record with the same name as theirs${sameAddress ? ' and their home postcode' : ''}`,
          'user-person',
        );
      else if (!own && sameAddress && s.sameAddress)
        add(
          'same-surname-address',
          `${who} accessed a record of someone with their surname and their home postcode`,
          'user-person',
        );
      else if (!own && s.sameName)
        add('same-surname', `${who} accessed a record of someone with the same surname`, 'user-person');
    }
  }

  const recent = facts.recent;
  const m = s.manyRecords;
  if (recent && m.enabled && !recent.includesThis && recent.persons + 1 >= m.persons)
    add(
      'many-records',
      `${who} has accessed ${recent.persons + 1} different records within ${m.minutes} minutes`,
      'user',
      m.minutes,
    );
  return out;
}
