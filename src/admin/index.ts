/**
 * Administrative actions (region set-up, objections, audit checks and reports), shared by the
 * admin API and the CLI. Each change and each report writes an audit event in the same
 * transaction: reading the audit trail is itself audited.
 */
import type { UserPrincipal } from '../access/index.ts';
import { dpoService, recordAuditEvent, type AuditEventInput, type DpoService } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { CLINICAL_TYPES } from '../fhir/index.ts';
import { objectionService, type ObjectionOptions } from './objections.ts';
import { personByNhs } from './person.ts';
import { listOrganisations, listSources, upsertOrganisation, upsertSource } from '../region/index.ts';

export const SECTIONS: string[] = [...new Set(Object.values(CLINICAL_TYPES).map((t) => t.section))].sort();

export type { ObjectionOptions } from './objections.ts';
export { checkReadiness, type Readiness } from './readiness.ts';
export { sensitivityService, type Decider, type SensitivityService } from './sensitivity.ts';

export interface Actor {
  userId: string;
  org: string;
  role: string;
}

export function actorOf(u: UserPrincipal): Actor {
  return { userId: u.userId, org: u.org, role: u.role };
}

export function adminService(db: Database, objectionOptions: ObjectionOptions = {}) {
  const audited = <T>(
    actor: Actor | UserPrincipal,
    event: Omit<AuditEventInput, 'user' | 'outcome'>,
    fn: (tx: Queryable) => Promise<T>,
  ) =>
    db.transaction(async (tx) => {
      const value = await fn(tx);
      const a = actor;
      await recordAuditEvent(tx, {
        ...event,
        outcome: 'success',
        user: { id: a.userId, org: a.org, role: a.role },
      });
      return value;
    });

  return {
    listOrganisations: () => listOrganisations(db),
    listSources: () => listSources(db),
    addOrganisation: (actor: Actor, input: unknown) =>
      audited(actor, { action: 'admin.change', detail: 'organisation upserted' }, (tx) =>
        upsertOrganisation(tx, input as never),
      ),
    addSource: (actor: Actor, input: unknown) =>
      audited(actor, { action: 'admin.change', detail: 'source upserted' }, (tx) =>
        upsertSource(tx, input as never),
      ),

    ...objectionService(db, objectionOptions),
  };
}

export type AdminService = ReturnType<typeof adminService>;

/**
 * The data protection officer's work on the audit trail (access and subject-access reports,
 * alerts, verification, checkpoints): src/audit's service, given identity's NHS number lookup and
 * the region's organisation names. Every report run and review is itself audited.
 */
export function auditAdmin(db: Database, config: Pick<Config, 'audit' | 'publicUrl'>): DpoService {
  return dpoService(db, config.audit, {
    personByNhs,
    organisationNames: async (q) => new Map((await listOrganisations(q)).map((o) => [o.ods, o.name])),
    fhirBase: `${config.publicUrl}/fhir`,
  });
}

export {
  configureAudit,
  refusalRecorder,
  startCheckpoints,
  type RefusalRecorder,
  type RefusedRequest,
  type Alert,
  type DpoActor,
  type DpoService,
  type ReportFormat,
  type SubjectAccessFormat,
  type VerifyResult,
} from '../audit/index.ts';

export { retentionRun, type RetentionRunReport } from './retention.ts';
export {
  checkBackup,
  restoreBackup,
  takeBackup,
  BACKUP_FORMAT,
  type Backup,
  type BackupManifest,
} from './backup.ts';
export { identityAdmin, moveEvents, type IdentityActor, type IdentityAdmin } from './identity.ts';
