/**
 * The audit settings in force in this process. The gate calls recordAuditEvent(tx, event) without
 * settings, and the alert rules need them, so the server installs its configuration once at start
 * (configureAudit, called where the server is built); until then the defaults apply. Every other
 * entry point (reports, verification, checkpoints, pruning) takes its settings as an argument.
 */
import { defaultAuditConfig, type AuditConfig } from '../config/index.ts';

let active: AuditConfig | undefined;

export function configureAudit(settings: AuditConfig): void {
  active = settings;
}

export function auditSettings(): AuditConfig {
  return (active ??= defaultAuditConfig());
}

export type { AuditConfig };
