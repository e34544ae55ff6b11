/**
 * Access reports: the events for one person ("who looked at my record") or one member of staff
 * ("whose records did this user open") in a period, oldest first, or the requests refused before
 * the gate (no or bad token, wrong caller). Each is one range scan of the (person_id, at) or
 * (user_id, at) index, or of the refusals' partial index.
 */
import type { Queryable } from '../db/index.ts';
import type { AuditEvent, ChainPosition } from './types.ts';

export interface ReportQuery {
  personId?: string;
  userId?: string;
  /** the requests refused before the gate (request.refused), rather than one person's or user's */
  refused?: boolean;
  from?: string;
  to?: string;
  /** only these actions */
  actions?: string[];
  limit?: number;
}

export type ReportRow = AuditEvent & ChainPosition;

export const REPORT_LIMIT = 10_000;

export async function accessReport(q: Queryable, query: ReportQuery): Promise<ReportRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (query.personId) where.push(`person_id = $${params.push(query.personId)}::uuid`);
  if (query.userId) where.push(`user_id = $${params.push(query.userId)}`);
  // a partial index (migration 013) serves this one by time
  if (query.refused) where.push(`action = 'request.refused'`);
  if (where.length === 0) throw new Error('an access report needs a person, a user or refusals');
  if (query.from) where.push(`at >= $${params.push(query.from)}::timestamptz`);
  if (query.to) where.push(`at <= $${params.push(query.to)}::timestamptz`);
  if (query.actions) where.push(`action = ANY($${params.push(query.actions)}::text[])`);
  const { rows } = await q.query<{
    seq: string;
    chain: number;
    chainSeq: string;
    hash: string;
    event: string;
  }>(
    `SELECT seq::text AS seq, chain::int AS chain, chain_seq::text AS "chainSeq", hash, event
     FROM audit_event WHERE ${where.join(' AND ')}
     ORDER BY audit_event.at, audit_event.seq LIMIT $${params.push(query.limit ?? REPORT_LIMIT)}`,
    params,
  );
  return rows.map(({ event, ...pos }) => ({ ...(JSON.parse(event) as AuditEvent), ...pos }));
}
