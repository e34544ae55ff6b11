/**
 * What binds an alert, and its review, to the trail: each is recorded by an audit event (in the
 * same transaction) whose text carries a digest of the row, and the row says where that event is.
 * The hash chain then protects the digest, and verification recomputes the digest from the row
 * (in SQL, built-ins only; verify-alerts.ts) to find a row changed after the fact. Same formula
 * in TypeScript (the writer) and SQL (the verifier); test/audit-alert-review.test.ts checks they agree.
 */
import { createHash } from 'node:crypto';
import { epochMsSql, lp, lpSql, sha256Sql } from './canonical.ts';

export interface AlertFields {
  id: string;
  createdAt: string;
  rule: string;
  eventSeq: string;
  userId: string | null;
  userOrg: string | null;
  userRole: string | null;
  personId: string | null;
  summary: string;
}

export interface ReviewFields {
  alertId: string;
  at: string;
  by: string;
  note: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const alertDigest = (a: AlertFields): string =>
  sha256(
    `${a.id}|${new Date(a.createdAt).getTime()}|${lp(a.rule)}${lp(a.eventSeq)}${lp(a.userId)}${lp(a.userOrg)}${lp(a.userRole)}${lp(a.personId)}${lp(a.summary)}`,
  );

/** alertDigest over the columns of audit_alert `t`. */
export const alertDigestSql = (t: string): string =>
  sha256Sql(
    `${t}.id::text || '|' || ${epochMsSql(`${t}.created_at`)} || '|' || ${[
      `${t}.rule`,
      `${t}.event_seq::text`,
      `${t}.user_id`,
      `${t}.user_org`,
      `${t}.user_role`,
      `${t}.person_id::text`,
      `${t}.summary`,
    ]
      .map(lpSql)
      .join(' || ')}`,
  );

export const reviewDigest = (r: ReviewFields): string =>
  sha256(`${r.alertId}|${new Date(r.at).getTime()}|${lp(r.by)}${lp(r.note)}`);

/** reviewDigest over the columns of audit_alert_review `t`. */
export const reviewDigestSql = (t: string): string =>
  sha256Sql(
    `${t}.alert_id::text || '|' || ${epochMsSql(`${t}.at`)} || '|' || ${lpSql(`${t}.reviewed_by`)} || ${lpSql(`${t}.note`)}`,
  );

/** How an event's detail states a digest (verification looks for exactly this). */
export const digestMark = (digest: string): string => `sha256 ${digest}`;
