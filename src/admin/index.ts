/**
 * Administrative actions (region set-up, objections, audit checks and reports), shared by the
 * admin API and the CLI. Each change and each report writes an audit event in the same
 * transaction: reading the audit trail is itself audited.
 */
import type { UserPrincipal } from '../access/index.ts';
import { accessReport, recordAuditEvent, verifyAuditChain, type AuditEventInput } from '../audit/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { CLINICAL_TYPES } from '../fhir/index.ts';
import { objectionService, type ObjectionOptions } from './objections.ts';
import { personByNhs } from './person.ts';
import { listOrganisations, listSources, upsertOrganisation, upsertSource } from '../region/index.ts';

export const SECTIONS: string[] = [...new Set(Object.values(CLINICAL_TYPES).map((t) => t.section))].sort();

export type { ObjectionOptions } from './objections.ts';

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
    verifyAudit: (actor: Actor) => audited(actor, { action: 'audit.verify' }, (tx) => verifyAuditChain(tx)),
    async accessReport(
      actor: Actor,
      q: {
        person?: string | undefined;
        user?: string | undefined;
        from?: string | undefined;
        to?: string | undefined;
      },
    ) {
      if (!q.person && !q.user)
        throw new SharedcareError('invalid-request', 'name a person (NHS number) or a user', [
          { message: 'person or user is required', expression: 'person' },
        ]);
      return db.transaction(async (tx) => {
        const personId = q.person ? await personByNhs(tx, q.person) : undefined;
        const rows = await accessReport(tx, {
          ...(personId ? { personId } : {}),
          ...(q.user ? { userId: q.user } : {}),
          ...(q.from ? { from: q.from } : {}),
          ...(q.to ? { to: q.to } : {}),
        });
        await recordAuditEvent(tx, {
          action: 'audit.report',
          outcome: 'success',
          user: { id: actor.userId, org: actor.org, role: actor.role },
          ...(personId ? { personId } : {}),
          query: q.user ? 'by-user' : 'by-person',
        });
        return rows;
      });
    },
  };
}

export type AdminService = ReturnType<typeof adminService>;
