/**
 * Access reports: the events for one person ("who looked at my record") or one member of staff
 * ("whose records did this user open") in a period, oldest first. Each is one range scan of the
 * (person_id, at) or (user_id, at) index.
 */
import type { Queryable } from '../db/index.ts';
import type { AuditEvent, ChainPosition } from './types.ts';

export interface ReportQuery {
  personId?: string;
  userId?: string;
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
  if (where.length === 0) throw new Error('an access report needs a person or a user');
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
