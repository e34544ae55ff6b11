/**
 * Feed health and dead letters, for the on-call operator and the integration engineer: per source,
 * when it last sent, how far behind it is, what its messages came to; and every message that was
 * refused, with where it was wrong (never its content), ready to replay after a fix.
 */
import type { Queryable } from '../../db/index.ts';

export interface FeedHealth {
  source: string;
  org: string;
  kind: string;
  lastReceivedAt: string | null;
  /** seconds since the source last sent anything (null: never) */
  lagSeconds: number | null;
  /** HL7 v2 messages by outcome: processed, failed (AE), rejected (AR), landed (in progress) */
  messages: Record<string, number>;
}

export async function feedHealth(db: Queryable, now: Date): Promise<FeedHealth[]> {
  const { rows } = await db.query<{
    id: string;
    org_ods: string;
    kind: string;
    last: string | Date | null;
    counts: Record<string, number> | null;
  }>(
    `SELECT s.id, s.org_ods, s.kind,
            GREATEST(s.last_received_at, m.last) AS last, m.counts
       FROM source_system s
       LEFT JOIN (
         SELECT source_id, max(received_at) AS last, jsonb_object_agg(status, n) AS counts
           FROM (SELECT source_id, status, count(*)::int AS n, max(received_at) AS received_at
                   FROM hl7_message GROUP BY source_id, status) g
          GROUP BY source_id
       ) m ON m.source_id = s.id
      ORDER BY s.id`,
  );
  return rows.map((r) => {
    const last = r.last ? new Date(r.last) : null;
    return {
      source: r.id,
      org: r.org_ods,
      kind: r.kind,
      lastReceivedAt: last?.toISOString() ?? null,
      lagSeconds: last ? Math.max(0, Math.round((now.getTime() - last.getTime()) / 1000)) : null,
      messages: r.counts ?? {},
    };
  });
}

export interface DeadLetter {
  id: string;
  source: string;
  controlId: string;
  messageType: string;
  receivedAt: string;
  status: 'failed' | 'rejected';
  ack: string | null;
  problems: { message: string; expression?: string }[];
  attempts: number;
}

export async function deadLetters(
  db: Queryable,
  filter: { sourceId?: string; limit?: number } = {},
): Promise<DeadLetter[]> {
  const { rows } = await db.query<{
    id: string;
    source_id: string;
    control_id: string;
    message_type: string;
    received_at: string | Date;
    status: 'failed' | 'rejected';
    ack_code: string | null;
    problems: DeadLetter['problems'] | null;
    attempts: number;
  }>(
    `SELECT id, source_id, control_id, message_type, received_at, status, ack_code, problems, attempts
       FROM hl7_message
      WHERE status IN ('failed', 'rejected') AND ($1::text IS NULL OR source_id = $1)
      ORDER BY id DESC LIMIT $2`,
    [filter.sourceId ?? null, Math.min(filter.limit ?? 100, 1000)],
  );
  return rows.map((r) => ({
    id: String(r.id),
    source: r.source_id,
    controlId: r.control_id,
    messageType: r.message_type,
    receivedAt: new Date(r.received_at).toISOString(),
    status: r.status,
    ack: r.ack_code,
    problems: r.problems ?? [],
    attempts: r.attempts,
  }));
}
