/**
 * The audit module: the append-only, hash-chained trail of every access and decision (record.ts),
 * its verification (verify.ts) against signed checkpoints kept outside the database
 * (checkpoint.ts; recorded in the database and copied to witnesses, witness.ts, so that a deleted
 * one is missed: verify-checkpoints.ts), the alerts and reviews bound to the trail
 * (alert-digest.ts, verify-alerts.ts), retention (prune.ts), access and subject-access reports (report.ts,
 * subject-access.ts, FHIR AuditEvent in fhir.ts, CSV in csv.ts), and the DPO's alerts
 * (alert-rules.ts, alert-store.ts). docs/audit.md describes the design.
 */
export {
  ACCESS_ACTIONS,
  type AuditAction,
  type AuditEvent,
  type AuditEventInput,
  type AuditUser,
  type ChainPosition,
} from './types.ts';
export { canonicalEvent, digestIds, eventHash, genesisHash, CHAINS } from './canonical.ts';
export {
  recordAccessEvent,
  recordAuditEvent,
  recordAuditEvents,
  recordAuditEventsOrRefuse,
  type RecordOptions,
} from './record.ts';
export {
  DEFAULT_REFUSAL_LIMITS,
  refusalRecorder,
  type RefusalLimits,
  type RefusalReason,
  type RefusalRecorder,
  type RefusedRequest,
} from './refusals.ts';
export { auditSettings, configureAudit, type AuditConfig } from './settings.ts';
export { withDatabaseRole } from './db-role.ts';
export { databaseRoleProblems } from './db-role-check.ts';
export { probeAuditWrite } from './probe.ts';
export { accessReport, REPORT_LIMIT, type ReportQuery, type ReportRow } from './report.ts';
export { reportCsv } from './csv.ts';
export { auditEventBundle, toFhirAuditEvent } from './fhir.ts';
export {
  subjectAccessHtml,
  subjectAccessText,
  subjectAccessVisits,
  type SubjectAccessReport,
  type Visit,
} from './subject-access.ts';
export { verifyAuditChain, type VerifyOptions, type VerifyProblem, type VerifyResult } from './verify.ts';
export {
  readCheckpoints,
  startCheckpoints,
  writeCheckpoint,
  type Checkpoint,
  type ChainMark,
} from './checkpoint.ts';
export { auditRetentionCutoff, pruneAuditTrail, type PruneOptions, type PruneResult } from './prune.ts';
export {
  ALERT_RULES,
  evaluateRules,
  isOutOfHours,
  splitName,
  type AlertCandidate,
  type AlertRule,
  type PersonFacts,
} from './alert-rules.ts';
export { clearAlertCaches, listAlerts, personFactsOf, reviewAlert, type Alert } from './alert-store.ts';
export {
  dpoService,
  periodBound,
  type DpoActor,
  type DpoDeps,
  type DpoService,
  type ReportFormat,
  type Rendered,
  type SubjectAccessFormat,
} from './service.ts';
