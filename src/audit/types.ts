/**
 * What the audit trail records. One event for every access and every decision: who (user, role,
 * organisation, the client system), whose record, what was returned (a count and a digest of the
 * ids), on what basis (the relationship or break glass), the outcome and the policy's reasons.
 * The shape maps onto FHIR AuditEvent (IHE Basic Audit Log Patterns; see fhir.ts).
 */

/** Every kind of event; the type below is derived from it, and tests can walk the whole list. */
export const AUDIT_ACTIONS = [
  // reads of the record (through the gate)
  'record.open',
  'record.search',
  'patient.search',
  'document.view',
  'record.export',
  'subject-access.copy',
  // decisions
  'access.refused',
  /** refused before the gate: no token, a token that does not verify, a caller of the wrong kind or role */
  'request.refused',
  'break-glass',
  'objection.record',
  'objection.withdraw',
  'objection.override',
  'objection.override-end',
  'objection.list',
  'identity.link',
  'identity.split',
  /** the identity review queue read, or a pair decided */
  'identity.review',
  'admin.change',
  'retention.run',
  /** a copy of the embedded database taken, and one restored (src/admin/backup.ts) */
  'backup.take',
  'backup.restore',
  // never-shared lists and the information-governance review of what the text screen flagged
  'codes.import',
  'sensitivity.review',
  // reads and changes of the audit trail itself
  'audit.report',
  'audit.subject-access',
  'audit.verify',
  'audit.alerts',
  // an alert raised by the rules: the event binds the alert row to the trail (alert-digest.ts)
  'audit.alert',
  'audit.alert-review',
  'audit.checkpoint',
  'audit.prune',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Actions that touch one person's record: the alert rules look at these. */
export const ACCESS_ACTIONS: ReadonlySet<AuditAction> = new Set<AuditAction>([
  'record.open',
  'record.search',
  'patient.search',
  'document.view',
  'record.export',
  'subject-access.copy',
  'access.refused',
  'break-glass',
]);

export interface AuditUser {
  id: string;
  org: string;
  role: string;
  name?: string | undefined;
  issuer?: string | undefined;
  /** the user's home postcode: read by the alert rules, never stored (canonicalEvent drops it) */
  postcode?: string | undefined;
}

export interface AuditEventInput {
  action: AuditAction;
  outcome: 'success' | 'refused' | 'error';
  user?: AuditUser | undefined;
  /** the calling system (e.g. the clinical system or SMART app that launched the view) */
  client?: string | undefined;
  /** the caller's network address, when the HTTP layer passes it */
  network?: string | undefined;
  /** the HTTP request id (X-Request-Id), when the HTTP layer passes it */
  requestId?: string | undefined;
  personId?: string | undefined;
  /** what was asked for, without patient identifiers (e.g. "Observation?date=ge2020") */
  query?: string | undefined;
  /** what was returned: resource ids (stored as a count and a digest, never the ids) */
  returnedIds?: string[] | undefined;
  /** the legal basis or relationship the access relied on (e.g. registered-gp, break-glass) */
  basis?: string | undefined;
  /** the policy's reason codes (e.g. objection-organisation, role-sections, no-relationship) */
  reasons?: string[] | undefined;
  /** PurposeOfUse (v3-ActReason) when the caller states one; otherwise derived on export */
  purpose?: string | undefined;
  detail?: string | undefined;
  /** how many requests the event stands for, when repeats are aggregated (request.refused) */
  count?: number | undefined;
}

/** The event as stored (canonical JSON) and as reports return it. */
export interface AuditEvent extends Omit<AuditEventInput, 'returnedIds'> {
  at: string;
  returned?: { count: number; digest: string };
}

/** Where an event sits in the evidence: its chain, its place in it, and its hash. */
export interface ChainPosition {
  seq: string;
  chain: number;
  chainSeq: string;
  hash: string;
}

/** One thing `audit verify` found wrong, located as precisely as it can be. */
export interface VerifyProblem {
  /** the chain, when the problem is in one */
  chain?: number;
  /** the event's place in its chain */
  seq?: string;
  /** the checkpoint concerned, by number */
  checkpoint?: number;
  /** the alert concerned, by id */
  alert?: string;
  what: string;
}
