/**
 * Writing the audit trail. Each event is canonical JSON; its hash covers the previous event's
 * hash, its own sequence number and that text, so changing, removing, inserting or reordering a
 * row breaks the chain. The chain tip lives in audit_head, advanced in the same single statement
 * that inserts the event: the caller's transaction holds the tip's row lock only until it commits.
 */
import type { Queryable } from '../db/index.ts';
import { stableStringify } from '../fhir/index.ts';

export type AuditAction =
  | 'record.open'
  | 'record.search'
  | 'patient.search'
  | 'access.refused'
  | 'break-glass'
  | 'objection.record'
  | 'objection.withdraw'
  | 'objection.list'
  | 'objection.override'
  | 'admin.change'
  | 'audit.report'
  | 'audit.verify';

export interface AuditEventInput {
  action: AuditAction;
  outcome: 'success' | 'refused' | 'error';
  user?: { id: string; org: string; role: string; name?: string | undefined; issuer?: string };
  /** the calling system (e.g. the clinical system that launched the view) */
  client?: string;
  personId?: string;
  /** what was asked for, without patient identifiers (e.g. "Observation?date=ge2020") */
  query?: string;
  /** what was returned: resource ids (stored as a count and a digest) */
  returnedIds?: string[];
  /** the access basis (relationship) and the policy's reason codes */
  basis?: string;
  reasons?: string[];
  detail?: string;
}

export interface AuditEvent extends Omit<AuditEventInput, 'returnedIds'> {
  at: string;
  returned?: { count: number; digest: string };
}

import { createHash } from 'node:crypto';

export function digestIds(ids: string[]): string {
  const h = createHash('sha256');
  for (const id of ids) h.update(id).update('\n');
  return h.digest('hex');
}

export function canonicalEvent(input: AuditEventInput, at: string): string {
  const { returnedIds, ...rest } = input;
  const event: AuditEvent = { ...rest, at };
  if (returnedIds) event.returned = { count: returnedIds.length, digest: digestIds(returnedIds) };
  return stableStringify(event);
}

/** Appends one event inside the caller's transaction. Throws if it cannot: the caller must fail. */
export async function recordAuditEvent(tx: Queryable, input: AuditEventInput): Promise<{ seq: string }> {
  const at = new Date().toISOString();
  const text = canonicalEvent(input, at);
  const { rows } = await tx.query<{ seq: string }>(
    `WITH next AS (
       UPDATE audit_head SET seq = seq + 1, prev_hash = hash,
         hash = encode(sha256(convert_to(hash || '|' || (seq + 1)::text || '|' || $1, 'UTF8')), 'hex')
       WHERE id = 1 RETURNING seq, prev_hash, hash)
     INSERT INTO audit_event (seq, at, action, outcome, user_id, user_org, person_id, event, prev_hash, hash)
     SELECT seq, $2::timestamptz, $3, $4, $5, $6, $7::uuid, $1, prev_hash, hash FROM next
     RETURNING seq::text AS seq`,
    [
      text,
      at,
      input.action,
      input.outcome,
      input.user?.id ?? null,
      input.user?.org ?? null,
      input.personId ?? null,
    ],
  );
  if (!rows[0]) throw new Error('audit chain head is missing');
  return rows[0];
}
