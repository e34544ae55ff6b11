/**
 * Objections to sharing (the person's right to object to their data being shared for direct care).
 * Recorded and withdrawn by authorised staff; nothing is ever deleted, so the history stays.
 * The national data opt-out is a different thing (secondary use) and is not stored here.
 */
import { randomUUID } from 'node:crypto';
import { readOne, type Fragment, type Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';

export type ObjectionScope = 'record' | 'organisation' | 'category' | 'item';

export interface Objection {
  id: string;
  personId: string;
  scope: ObjectionScope;
  target: string | null;
  note: string | null;
  recordedBy: string;
  recordedAt: string;
  withdrawnBy: string | null;
  withdrawnAt: string | null;
  /** when the person asked, and how (letter, telephone, at the practice…) */
  requestedOn: string | null;
  requestSource: string | null;
  /** the organisation of the member of staff who recorded it */
  recorderOrg: string | null;
  withdrawRequestedOn: string | null;
  withdrawSource: string | null;
}

export interface ObjectionInput {
  personId: string;
  scope: ObjectionScope;
  target?: string;
  note?: string;
  recordedBy: string;
  recorderOrg?: string;
  requestedOn?: string;
  requestSource?: string;
}

/** How and when the person asked to withdraw an objection. */
export interface WithdrawalInput {
  withdrawnBy: string;
  requestedOn?: string;
  requestSource?: string;
}

const SELECT = `SELECT id, person_id AS "personId", scope, target, note, recorded_by AS "recordedBy",
  recorded_at AS "recordedAt", withdrawn_by AS "withdrawnBy", withdrawn_at AS "withdrawnAt",
  requested_on::text AS "requestedOn", request_source AS "requestSource", recorder_org AS "recorderOrg",
  withdraw_requested_on::text AS "withdrawRequestedOn", withdraw_source AS "withdrawSource" FROM objection`;

type Row = Omit<Objection, 'recordedAt' | 'withdrawnAt'> & {
  recordedAt: Date | string;
  withdrawnAt: Date | string | null;
};

/** Timestamps as ISO 8601, as everywhere else in Sharedcare's output. */
function toObjection(r: Row): Objection {
  const iso = (d: Date | string) => new Date(d).toISOString();
  return {
    ...r,
    recordedAt: iso(r.recordedAt),
    withdrawnAt: r.withdrawnAt === null ? null : iso(r.withdrawnAt),
  };
}

/** A request date is a calendar date, not in the future. */
function checkDate(value: string | undefined, expression: string): void {
  if (value === undefined) return;
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));
  const why = !ok
    ? `${expression} must be a date (YYYY-MM-DD)`
    : Date.parse(value) > Date.now()
      ? `${expression} cannot be in the future`
      : undefined;
  if (why) throw new SharedcareError('invalid-request', why, [{ message: why, expression }]);
}

export async function recordObjection(q: Queryable, input: ObjectionInput): Promise<Objection> {
  if (input.scope === 'record' && input.target) {
    throw new SharedcareError('invalid-request', 'a whole-record objection has no target');
  }
  if (input.scope !== 'record' && !input.target) {
    throw new SharedcareError('invalid-request', `an objection to one ${input.scope} must say which`, [
      { message: `an objection to one ${input.scope} must say which`, expression: 'target' },
    ]);
  }
  checkDate(input.requestedOn, 'requestedOn');
  const id = randomUUID();
  await q.query(
    `INSERT INTO objection (id, person_id, scope, target, note, recorded_by, recorded_at, requested_on, request_source,
       recorder_org, nhs_number)
     VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, (SELECT nhs_number FROM person WHERE id = $2))`,
    [
      id,
      input.personId,
      input.scope,
      input.target ?? null,
      input.note ?? null,
      input.recordedBy,
      input.requestedOn ?? null,
      input.requestSource ?? null,
      input.recorderOrg ?? null,
    ],
  );
  return toObjection((await q.query<Row>(`${SELECT} WHERE id = $1`, [id])).rows[0]!);
}

export async function withdrawObjection(q: Queryable, id: string, w: WithdrawalInput): Promise<Objection> {
  if (!/^[0-9a-f-]{36}$/i.test(id))
    throw new SharedcareError('invalid-request', `"${id}" is not an objection id`);
  checkDate(w.requestedOn, 'requestedOn');
  const r = await q.query(
    `UPDATE objection SET withdrawn_by = $2, withdrawn_at = now(), withdraw_requested_on = $3, withdraw_source = $4
     WHERE id = $1 AND withdrawn_at IS NULL`,
    [id, w.withdrawnBy, w.requestedOn ?? null, w.requestSource ?? null],
  );
  if (r.rowCount === 0) throw new SharedcareError('not-found', `no objection ${id} in force`);
  return toObjection((await q.query<Row>(`${SELECT} WHERE id = $1`, [id])).rows[0]!);
}

/** A person's objections, newest first; withdrawn ones too when asked (a fragment of a composed read). */
export function objectionsFragment(includeWithdrawn = false): Fragment<Objection[]> {
  // by record id, or by the NHS number it was recorded against (the record may have been rebuilt)
  // (two index probes, not an OR that would scan the table)
  const mine = `id IN (SELECT id FROM objection WHERE person_id = $1 UNION ALL
    SELECT o.id FROM objection o JOIN person p ON p.nhs_number = o.nhs_number WHERE p.id = $1)`;
  const where = includeWithdrawn ? mine : `${mine} AND withdrawn_at IS NULL`;
  return {
    sql: () =>
      `SELECT coalesce(json_agg(x ORDER BY x."recordedAt" DESC), '[]') FROM (${SELECT} WHERE ${where}) x`,
    decode: (v) => ((v ?? []) as Row[]).map(toObjection),
  };
}

/** A person's objections, newest first; withdrawn ones too when asked (full history). */
export async function listObjections(
  q: Queryable,
  personId: string,
  includeWithdrawn = false,
): Promise<Objection[]> {
  return readOne(q, personId, objectionsFragment(includeWithdrawn));
}
