import type { Queryable } from '../db/index.ts';
import type { AuditEvent } from './record.ts';

export interface ReportQuery {
  personId?: string;
  userId?: string;
  from?: string;
  to?: string;
  limit?: number;
}

export interface ReportRow extends AuditEvent {
  seq: string;
}

/** Access events for one person or one member of staff in a period, oldest first. */
export async function accessReport(q: Queryable, query: ReportQuery): Promise<ReportRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (query.personId) where.push(`person_id = $${params.push(query.personId)}::uuid`);
  if (query.userId) where.push(`user_id = $${params.push(query.userId)}`);
  if (where.length === 0) throw new Error('an access report needs a person or a user');
  if (query.from) where.push(`at >= $${params.push(query.from)}::timestamptz`);
  if (query.to) where.push(`at <= $${params.push(query.to)}::timestamptz`);
  const { rows } = await q.query<{ seq: string; event: string }>(
    `SELECT seq::text AS seq, event FROM audit_event WHERE ${where.join(' AND ')} ORDER BY audit_event.at, audit_event.seq LIMIT $${params.push(query.limit ?? 10_000)}`,
    params,
  );
  return rows.map((r) => ({ seq: r.seq, ...(JSON.parse(r.event) as AuditEvent) }));
}
