export {
  canonicalEvent,
  digestIds,
  recordAuditEvent,
  type AuditAction,
  type AuditEvent,
  type AuditEventInput,
} from './record.ts';
export { accessReport, type ReportQuery, type ReportRow } from './report.ts';
export { verifyAuditChain, type VerifyResult } from './verify.ts';
