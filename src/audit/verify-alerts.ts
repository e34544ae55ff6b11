/**
 * Alerts and reviews against the trail, for `audit verify`. Each alert row (since migration 014)
 * names the `audit.alert` event that recorded it, and each review row its `audit.alert-review`
 * event; the event's text carries the row's digest (alert-digest.ts), and the hash chain protects
 * the event. So:
 *
 * - a row whose digest its event does not carry was changed (or the event is not its own);
 * - fewer rows than such events (up to the heads read first): rows were removed, and the events
 *   without a row say which (a removed review makes its alert look open again);
 * - a review with no event, or an alert without one written after migration 014: forged.
 *
 * All joins go through the (chain, chain_seq) index; the counts of events come from the one scan
 * that checks every event's hash (verify-chain.ts), so this adds no pass over the trail unless
 * something is wrong.
 */
import type { Queryable } from '../db/index.ts';
import { alertDigestSql, reviewDigestSql } from './alert-digest.ts';
import type { ChainMark } from './checkpoint.ts';
import type { VerifyProblem } from './types.ts';
import { byChain, type RecordCounts } from './verify-chain.ts';

/** a row's event is within what this verification covers: after its chain's base, up to its head */
const within = (t: string) =>
  `${t}.record_seq > ($1::bigint[])[${t}.record_chain + 1] AND ${t}.record_seq <= ($2::bigint[])[${t}.record_chain + 1]`;
const MIGRATED = `(SELECT applied_at FROM schema_migration WHERE name = '014_audit_witness.sql')`;
const carries = (digest: string) => `pg_catalog.strpos(e.event, 'sha256 ' || ${digest}) > 0`;

interface Place {
  id: string | null;
  chain: number | null;
  seq: string | null;
}

async function changedAlerts(q: Queryable, params: unknown[]): Promise<VerifyProblem[]> {
  const { rows } = await q.query<Place & { bound: boolean }>(
    `SELECT a.id::text AS id, a.record_chain::int AS chain, a.record_seq::text AS seq, a.record_chain IS NOT NULL AS bound
     FROM audit_alert a LEFT JOIN audit_event e ON e.chain = a.record_chain AND e.chain_seq = a.record_seq
     WHERE (a.record_chain IS NOT NULL AND ${within('a')}
            AND (e.seq IS NULL OR e.action <> 'audit.alert' OR NOT ${carries(alertDigestSql('a'))}))
        OR (a.record_chain IS NULL AND a.created_at > ${MIGRATED})
     ORDER BY a.created_at LIMIT $3`,
    params,
  );
  return rows.map((r) =>
    r.bound
      ? {
          chain: r.chain!,
          seq: r.seq!,
          alert: r.id!,
          what: `alert ${r.id} was changed: the audit.alert event that recorded it carries another digest`,
        }
      : { alert: r.id!, what: `alert ${r.id} is not recorded in the trail (no audit.alert event): forged` },
  );
}

async function changedReviews(q: Queryable, params: unknown[]): Promise<VerifyProblem[]> {
  const { rows } = await q.query<Place & { recorded: boolean }>(
    `SELECT r.alert_id::text AS id, r.record_chain::int AS chain, r.record_seq::text AS seq,
       (e.seq IS NOT NULL AND e.action = 'audit.alert-review' AND pg_catalog.strpos(e.event, r.alert_id::text) > 0) AS recorded
     FROM audit_alert_review r LEFT JOIN audit_event e ON e.chain = r.record_chain AND e.chain_seq = r.record_seq
     WHERE (r.record_chain IS NOT NULL AND ${within('r')}
            AND (e.seq IS NULL OR e.action <> 'audit.alert-review' OR pg_catalog.strpos(e.event, r.alert_id::text) = 0
                 OR (pg_catalog.strpos(e.event, 'sha256 ') > 0 AND NOT ${carries(reviewDigestSql('r'))})))
        OR (r.record_chain IS NULL AND r.at > ${MIGRATED})
     ORDER BY r.at LIMIT $3`,
    params,
  );
  return rows.map((r) => ({
    ...(r.chain !== null ? { chain: r.chain, seq: r.seq! } : {}),
    alert: r.id!,
    what: r.recorded
      ? `the review of alert ${r.id} was changed: the audit.alert-review event that recorded it carries another digest`
      : `the review of alert ${r.id} is not recorded in the trail (no audit.alert-review event names it): forged`,
  }));
}

/** Events that recorded a row which is no longer there. */
async function removedRows(
  q: Queryable,
  params: unknown[],
  table: 'audit_alert' | 'audit_alert_review',
  action: string,
  what: string,
): Promise<VerifyProblem[]> {
  const { rows } = await q.query<Place>(
    `SELECT e.chain::int AS chain, e.chain_seq::text AS seq FROM audit_event e
     WHERE e.action = '${action}' AND e.chain_seq > ($1::bigint[])[e.chain + 1] AND e.chain_seq <= ($2::bigint[])[e.chain + 1]
       AND NOT EXISTS (SELECT 1 FROM ${table} x WHERE x.record_chain = e.chain AND x.record_seq = e.chain_seq)
     ORDER BY e.chain, e.chain_seq LIMIT $3`,
    params,
  );
  return rows.map((r) => ({ chain: r.chain!, seq: r.seq!, what }));
}

export async function verifyAlerts(
  q: Queryable,
  heads: ChainMark[],
  bases: ChainMark[],
  counts: RecordCounts,
  max: number,
): Promise<VerifyProblem[]> {
  const params = [byChain(bases), byChain(heads), max];
  const { rows } = await q.query<{ alerts: number; reviews: number }>(
    `SELECT (SELECT count(*) FROM audit_alert a WHERE ${within('a')})::int AS alerts,
            (SELECT count(*) FROM audit_alert_review r WHERE ${within('r')})::int AS reviews`,
    params.slice(0, 2),
  );
  const problems = [...(await changedAlerts(q, params)), ...(await changedReviews(q, params))];
  if ((rows[0]?.alerts ?? 0) < counts.alerts)
    problems.push(
      ...(await removedRows(
        q,
        params,
        'audit_alert',
        'audit.alert',
        'the alert this audit.alert event recorded was removed',
      )),
    );
  if ((rows[0]?.reviews ?? 0) < counts.reviews)
    problems.push(
      ...(await removedRows(
        q,
        params,
        'audit_alert_review',
        'audit.alert-review',
        'the review this audit.alert-review event recorded was removed (its alert looks open again)',
      )),
    );
  return problems;
}
