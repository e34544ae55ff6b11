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
import { findPersonByNhsNumber, isValidNhsNumber, normaliseNhsNumber } from '../identity/index.ts';
import { listObjections, recordObjection, withdrawObjection, type ObjectionScope } from '../policy/index.ts';
import {
  getOrganisation,
  listOrganisations,
  listSources,
  upsertOrganisation,
  upsertSource,
} from '../region/index.ts';

export const SECTIONS: string[] = [...new Set(Object.values(CLINICAL_TYPES).map((t) => t.section))].sort();

export interface Actor {
  userId: string;
  org: string;
  role: string;
}

export function actorOf(u: UserPrincipal): Actor {
  return { userId: u.userId, org: u.org, role: u.role };
}

async function personByNhs(q: Queryable, nhs: string): Promise<string> {
  const n = normaliseNhsNumber(nhs);
  if (!isValidNhsNumber(n))
    throw new SharedcareError(
      'invalid-request',
      'that is not a valid NHS number (it fails the check digit)',
      [{ message: 'not a valid NHS number', expression: 'nhs' }],
    );
  const person = await findPersonByNhsNumber(q, n);
  if (!person)
    throw new SharedcareError(
      'not-found',
      'no person with that NHS number has been received from any source',
    );
  return person.id;
}

export function adminService(db: Database) {
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

    async addObjection(
      actor: Actor,
      b: { nhs: string; scope: ObjectionScope; target?: string | undefined; note?: string | undefined },
    ) {
      return db.transaction(async (tx) => {
        const personId = await personByNhs(tx, b.nhs);
        if (b.scope === 'organisation' && b.target && !(await getOrganisation(tx, b.target))) {
          throw new SharedcareError('invalid-request', `organisation ${b.target} is not registered`, [
            { message: `organisation ${b.target} is not registered`, expression: 'target' },
          ]);
        }
        if (b.scope === 'category' && b.target && !SECTIONS.includes(b.target)) {
          throw new SharedcareError('invalid-request', `category must be one of: ${SECTIONS.join(', ')}`, [
            { message: `category must be one of: ${SECTIONS.join(', ')}`, expression: 'target' },
          ]);
        }
        if (
          b.scope === 'item' &&
          b.target &&
          !/^[0-9a-f-]{36}$/i.test(b.target.replace(/^[A-Za-z]+\//, ''))
        ) {
          throw new SharedcareError(
            'invalid-request',
            'an item is named by its Sharedcare id (Type/id as shown in the record)',
            [{ message: 'not an item id', expression: 'target' }],
          );
        }
        const target = b.scope === 'item' ? b.target?.replace(/^[A-Za-z]+\//, '') : b.target;
        const objection = await recordObjection(tx, {
          personId,
          scope: b.scope,
          recordedBy: actor.userId,
          ...(target ? { target } : {}),
          ...(b.note ? { note: b.note } : {}),
        });
        await recordAuditEvent(tx, {
          action: 'objection.record',
          outcome: 'success',
          user: { id: actor.userId, org: actor.org, role: actor.role },
          personId,
          detail: `${b.scope}${target ? `:${target}` : ''}`,
        });
        return objection;
      });
    },
    async withdrawObjection(actor: Actor, id: string) {
      return db.transaction(async (tx) => {
        const o = await withdrawObjection(tx, id, actor.userId);
        await recordAuditEvent(tx, {
          action: 'objection.withdraw',
          outcome: 'success',
          user: { id: actor.userId, org: actor.org, role: actor.role },
          personId: o.personId,
          detail: id,
        });
        return o;
      });
    },
    async listObjections(actor: Actor, nhs: string, all: boolean) {
      return db.transaction(async (tx) => {
        const personId = await personByNhs(tx, nhs);
        const list = await listObjections(tx, personId, all);
        await recordAuditEvent(tx, {
          action: 'objection.list',
          outcome: 'success',
          user: { id: actor.userId, org: actor.org, role: actor.role },
          personId,
        });
        return list;
      });
    },
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
