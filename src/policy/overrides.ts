/**
 * Overriding an objection: only for safeguarding or the public interest, only by a role the region
 * allows, always with a reason and an end date, and always with a notice to the person saying it
 * was not upheld, why, and how to complain to the Information Commissioner's Office. The override
 * lifts the objection (for one organisation, or for every reader) until its end date; nothing is
 * deleted, and ending it early keeps the record.
 */
import { randomUUID } from 'node:crypto';
import { readOne, type Fragment, type Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import type { Objection } from './objections.ts';

export type OverrideGround = 'safeguarding' | 'public-interest';
export const OVERRIDE_GROUNDS: Record<OverrideGround, string> = {
  safeguarding: 'to protect a child or an adult at risk from harm (safeguarding)',
  'public-interest': 'because sharing is required in the public interest',
};
/** The longest an override may last before someone must decide again. */
export const MAX_OVERRIDE_DAYS = 366;

export interface Override {
  id: string;
  objectionId: string;
  personId: string;
  ground: OverrideGround;
  reason: string;
  forOrg: string | null;
  decidedBy: string;
  decidedRole: string;
  decidedOrg: string;
  startsAt: string;
  endsAt: string;
  endedAt: string | null;
  notice: string;
}

export interface OverrideInput {
  objection: Objection;
  ground: string;
  reason: string;
  endsOn: string;
  forOrg?: string;
  decidedBy: { userId: string; role: string; org: string; orgName?: string };
  /** roles the region allows to override (configuration) */
  allowedRoles: readonly string[];
  regionName?: string;
  now?: Date;
}

const SCOPE_WORDS: Record<string, (t: string | null) => string> = {
  record: () => 'your whole record',
  organisation: (t) => `the information held about you by organisation ${t}`,
  category: (t) => `your ${t}`,
  item: () => 'some specific entries in your record',
};

const fmt = (d: Date) =>
  d.toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'Europe/London',
  });

/** The letter to the person. Plain words; the ICO's details as published on ico.org.uk. */
export function overrideNotice(o: {
  objection: Objection;
  ground: OverrideGround;
  reason: string;
  startsAt: Date;
  endsAt: Date;
  forOrg: string | null;
  decidedOrg: string;
  regionName?: string | undefined;
}): string {
  const asked = o.objection.requestedOn ? ` on ${fmt(new Date(o.objection.requestedOn))}` : '';
  const record = o.regionName ? `the ${o.regionName} Shared Care Record` : 'the Shared Care Record';
  const who = o.forOrg ? `staff of organisation ${o.forOrg}` : 'the professionals caring for you';
  return [
    `You asked${asked} that ${SCOPE_WORDS[o.objection.scope]!(o.objection.target)} should not be shared through ${record}.`,
    `On ${fmt(o.startsAt)} your objection was not upheld, ${OVERRIDE_GROUNDS[o.ground]}. The reason recorded is: ${o.reason}`,
    `This means ${who} can see this information until ${fmt(o.endsAt)}. After that date your objection applies again unless a new decision is made, and you will be told of it.`,
    `The decision was made by organisation ${o.decidedOrg}. You can ask its data protection officer to review it.`,
    "If you are unhappy with how your information has been handled, you have the right to complain to the Information Commissioner's Office (ICO): online at ico.org.uk/make-a-complaint, by telephone on 0303 123 1113, or by post to Information Commissioner's Office, Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF.",
  ].join('\n\n');
}

function invalid(message: string, expression: string): never {
  throw new SharedcareError('invalid-request', message, [{ message, expression }]);
}

export async function recordOverride(q: Queryable, input: OverrideInput): Promise<Override> {
  const now = input.now ?? new Date();
  if (!input.allowedRoles.includes(input.decidedBy.role))
    throw new SharedcareError(
      'forbidden',
      `only these roles may override an objection: ${input.allowedRoles.join(', ')}`,
    );
  if (input.objection.withdrawnAt)
    invalid('the objection has been withdrawn: there is nothing to override', 'id');
  if (!(input.ground in OVERRIDE_GROUNDS))
    invalid('an objection may be overridden only for safeguarding or public-interest', 'ground');
  if (input.reason.trim().length < 10)
    invalid('give the reason for the override (at least 10 characters)', 'reason');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.endsOn) || Number.isNaN(Date.parse(input.endsOn)))
    invalid('the end date must be a date (YYYY-MM-DD)', 'endsOn');
  // ends at the end of that day, London time being close enough to UTC for a date boundary
  const endsAt = new Date(`${input.endsOn}T23:59:59Z`);
  if (endsAt <= now) invalid('the end date must be in the future', 'endsOn');
  if (endsAt.getTime() - now.getTime() > MAX_OVERRIDE_DAYS * 86_400_000)
    invalid(`an override may last at most ${MAX_OVERRIDE_DAYS} days`, 'endsOn');
  const ground = input.ground as OverrideGround;
  const forOrg = input.forOrg ?? null;
  const notice = overrideNotice({
    objection: input.objection,
    ground,
    reason: input.reason.trim(),
    startsAt: now,
    endsAt,
    forOrg,
    decidedOrg: input.decidedBy.orgName
      ? `${input.decidedBy.orgName} (${input.decidedBy.org})`
      : input.decidedBy.org,
    regionName: input.regionName,
  });
  const row: Override = {
    id: randomUUID(),
    objectionId: input.objection.id,
    personId: input.objection.personId,
    ground,
    reason: input.reason.trim(),
    forOrg,
    decidedBy: input.decidedBy.userId,
    decidedRole: input.decidedBy.role,
    decidedOrg: input.decidedBy.org,
    startsAt: now.toISOString(),
    endsAt: endsAt.toISOString(),
    endedAt: null,
    notice,
  };
  await q.query(
    `INSERT INTO objection_override (id, objection_id, person_id, ground, reason, for_org, decided_by, decided_role,
       decided_org, starts_at, ends_at, notice) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      row.id,
      row.objectionId,
      row.personId,
      row.ground,
      row.reason,
      row.forOrg,
      row.decidedBy,
      row.decidedRole,
      row.decidedOrg,
      row.startsAt,
      row.endsAt,
      row.notice,
    ],
  );
  return row;
}

const SELECT = `SELECT id, objection_id AS "objectionId", person_id AS "personId", ground, reason, for_org AS "forOrg",
  decided_by AS "decidedBy", decided_role AS "decidedRole", decided_org AS "decidedOrg", starts_at AS "startsAt",
  ends_at AS "endsAt", ended_at AS "endedAt", notice FROM objection_override`;

type Row = Omit<Override, 'startsAt' | 'endsAt' | 'endedAt'> & {
  startsAt: Date | string;
  endsAt: Date | string;
  endedAt: Date | string | null;
};
const iso = (d: Date | string) => new Date(d).toISOString();
const toOverride = (r: Row): Override => ({
  ...r,
  startsAt: iso(r.startsAt),
  endsAt: iso(r.endsAt),
  endedAt: r.endedAt === null ? null : iso(r.endedAt),
});

/** The overrides of the person's objections, newest first; in force now only if `current` (a fragment). */
export function overridesFragment(current = false): Fragment<Override[]> {
  // the overrides of the person's objections (found as listObjections finds them)
  const mine = `objection_id IN (SELECT id FROM objection WHERE person_id = $1 UNION ALL
    SELECT o.id FROM objection o JOIN person p ON p.nhs_number = o.nhs_number WHERE p.id = $1)`;
  const where = current ? `${mine} AND ended_at IS NULL AND starts_at <= now() AND ends_at > now()` : mine;
  return {
    sql: () =>
      `SELECT coalesce(json_agg(x ORDER BY x."startsAt" DESC), '[]') FROM (${SELECT} WHERE ${where}) x`,
    decode: (v) => ((v ?? []) as Row[]).map(toOverride),
  };
}

export async function listOverrides(q: Queryable, personId: string, current = false): Promise<Override[]> {
  return readOne(q, personId, overridesFragment(current));
}

/** Ends an override early (the risk has passed); the objection applies again at once. */
export async function endOverride(q: Queryable, id: string): Promise<Override> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) invalid(`"${id}" is not an override id`, 'id');
  const r = await q.query<Row>(
    `UPDATE objection_override SET ended_at = now() WHERE id = $1 AND ended_at IS NULL AND ends_at > now()
     RETURNING id, objection_id AS "objectionId", person_id AS "personId", ground, reason, for_org AS "forOrg",
       decided_by AS "decidedBy", decided_role AS "decidedRole", decided_org AS "decidedOrg",
       starts_at AS "startsAt", ends_at AS "endsAt", ended_at AS "endedAt", notice`,
    [id],
  );
  if (!r.rows[0]) throw new SharedcareError('not-found', `no override ${id} in force`);
  return toOverride(r.rows[0]);
}
