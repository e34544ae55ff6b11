/**
 * Writing the audit trail. One call (the audit_append function of migration 006) advances a chain
 * head and inserts the event: PostgreSQL computes the new hash from the head's previous hash
 * (canonical.ts), so the writer never reads the head first. The chain is chosen from the
 * transaction id, so one transaction's events are consecutive on one chain and it holds one head
 * lock at a time (no deadlocks between writers), while concurrent transactions mostly land on
 * different chains instead of queueing on one row. The head's row lock is held until the caller's
 * transaction commits.
 *
 * Then the alert rules run on the event in the same transaction (alert-store.ts). If anything
 * fails, the error reaches the caller, whose transaction must fail: no data without its record.
 */
import type { AuditConfig } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import { needs } from './alert-rules.ts';
import { raiseAlerts } from './alert-store.ts';
import { canonicalEvent } from './canonical.ts';
import { auditSettings } from './settings.ts';
import type { AuditEvent, AuditEventInput, ChainPosition } from './types.ts';

const APPEND = `SELECT o_seq::text AS seq, o_chain::int AS chain, o_chain_seq::text AS "chainSeq", o_hash AS hash,
    o_recent_persons AS "recentPersons", o_recent_seen AS "recentSeen"
  FROM audit_append($1, $2::timestamptz, $3, $4, $5, $6, $7::uuid, $8::timestamptz)`;

export interface RecordOptions {
  /** settings for the alert rules (default: those the server installed with configureAudit) */
  settings?: AuditConfig;
  /** the event's time (default: now); tests and imports only */
  now?: Date;
}

/** Appends one event inside the caller's transaction. Throws if it cannot: the caller must fail. */
export async function recordAuditEvent(
  tx: Queryable,
  input: AuditEventInput,
  opts: RecordOptions = {},
): Promise<ChainPosition & { alerts: number }> {
  const rules = (opts.settings ?? auditSettings()).alerts;
  const at = (opts.now ?? new Date()).toISOString();
  const { returnedIds: _ids, ...rest } = input;
  const event: AuditEvent = { ...rest, at };
  const recentSince = needs(event, rules).recent
    ? new Date(new Date(at).getTime() - rules.manyRecords.minutes * 60_000).toISOString()
    : null;
  const { rows } = await tx.query<
    ChainPosition & { recentPersons: number | null; recentSeen: boolean | null }
  >(APPEND, [
    canonicalEvent(input, at),
    at,
    input.action,
    input.outcome,
    input.user?.id ?? null,
    input.user?.org ?? null,
    input.personId ?? null,
    recentSince,
  ]);
  const r = rows[0];
  if (!r?.seq) throw new Error('audit chain head is missing');
  const { recentPersons, recentSeen, ...pos } = r;
  const recent = recentSince ? { persons: recentPersons ?? 0, includesThis: recentSeen === true } : undefined;
  const alerts = await raiseAlerts(tx, event, pos.seq, rules, recent);
  return { ...pos, alerts };
}
