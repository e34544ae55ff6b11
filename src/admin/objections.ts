/**
 * The objection register, for authorised staff (administrators and the data protection officer):
 * record and withdraw objections with the date and source of the person's request, list them with
 * their full history (also as FHIR Consent resources), override one for safeguarding or the public
 * interest, and keep the national data opt-out apart. Every action writes an audit event in the
 * same transaction.
 */
import { recordAuditEventsOrRefuse, type AuditEventInput } from '../audit/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { CLINICAL_TYPES } from '../fhir/index.ts';
import {
  endOverride,
  getOptOut,
  listObjections,
  listOverrides,
  objectionToConsent,
  recordObjection,
  recordOverride,
  setOptOut,
  withdrawObjection,
  type ObjectionScope,
} from '../policy/index.ts';
import { getOrganisation } from '../region/index.ts';
import type { Actor } from './index.ts';
import { checkedNhsNumber, personByNhs } from './person.ts';

const SECTIONS: string[] = [...new Set(Object.values(CLINICAL_TYPES).map((t) => t.section))].sort();

export interface ObjectionOptions {
  /** roles allowed to override an objection (configuration) */
  overrideRoles?: readonly string[];
  /** the region's name, for the notice to the person */
  regionName?: string;
}

export const DEFAULT_OVERRIDE_ROLES = ['sharedcare-dpo', 'caldicott-guardian'] as const;

export interface ObjectionRequest {
  nhs: string;
  scope: ObjectionScope;
  target?: string | undefined;
  note?: string | undefined;
  requestedOn?: string | undefined;
  requestSource?: string | undefined;
}

export interface OverrideRequest {
  ground: string;
  reason: string;
  endsOn: string;
  forOrg?: string | undefined;
}

const bad = (message: string, expression: string) =>
  new SharedcareError('invalid-request', message, [{ message, expression }]);

async function checkTarget(tx: Queryable, b: ObjectionRequest): Promise<string | undefined> {
  if (b.scope === 'organisation' && b.target && !(await getOrganisation(tx, b.target)))
    throw bad(`organisation ${b.target} is not registered`, 'target');
  if (b.scope === 'category' && b.target && !SECTIONS.includes(b.target))
    throw bad(`category must be one of: ${SECTIONS.join(', ')}`, 'target');
  if (b.scope === 'item' && b.target && !/^[0-9a-f-]{36}$/i.test(b.target.replace(/^[A-Za-z]+\//, '')))
    throw bad('an item is named by its Sharedcare id (Type/id as shown in the record)', 'target');
  return b.scope === 'item' ? b.target?.replace(/^[A-Za-z]+\//, '') : b.target;
}

export function objectionService(db: Database, opts: ObjectionOptions = {}) {
  const overrideRoles = opts.overrideRoles ?? DEFAULT_OVERRIDE_ROLES;
  const audit = (tx: Queryable, actor: Actor, e: Omit<AuditEventInput, 'user' | 'outcome'>) =>
    recordAuditEventsOrRefuse(tx, [
      { ...e, outcome: 'success', user: { id: actor.userId, org: actor.org, role: actor.role } },
    ]);

  return {
    addObjection: (actor: Actor, b: ObjectionRequest) =>
      db.transaction(async (tx) => {
        const personId = await personByNhs(tx, b.nhs);
        const target = await checkTarget(tx, b);
        const objection = await recordObjection(tx, {
          personId,
          scope: b.scope,
          recordedBy: actor.userId,
          recorderOrg: actor.org,
          ...(target ? { target } : {}),
          ...(b.note ? { note: b.note } : {}),
          ...(b.requestedOn ? { requestedOn: b.requestedOn } : {}),
          ...(b.requestSource ? { requestSource: b.requestSource } : {}),
        });
        await audit(tx, actor, {
          action: 'objection.record',
          personId,
          reasons: [`objection-${b.scope}`],
          detail: `${b.scope}${target ? `:${target}` : ''}`,
        });
        return objection;
      }),

    withdrawObjection: (
      actor: Actor,
      id: string,
      how: { requestedOn?: string; requestSource?: string } = {},
    ) =>
      db.transaction(async (tx) => {
        const o = await withdrawObjection(tx, id, { withdrawnBy: actor.userId, ...how });
        await audit(tx, actor, { action: 'objection.withdraw', personId: o.personId, detail: id });
        return o;
      }),

    /** The register for one person: objections (withdrawn too when asked), their overrides and Consents. */
    listObjections: (actor: Actor, nhs: string, all: boolean) =>
      db.transaction(async (tx) => {
        const personId = await personByNhs(tx, nhs);
        const list = await listObjections(tx, personId, all);
        const overrides = await listOverrides(tx, personId);
        await audit(tx, actor, { action: 'objection.list', personId });
        return list.map((o) => ({
          ...o,
          overrides: overrides.filter((v) => v.objectionId === o.id),
          consent: objectionToConsent(o, overrides),
        }));
      }),

    overrideObjection: (actor: Actor & { orgName?: string }, id: string, r: OverrideRequest) =>
      db.transaction(async (tx) => {
        if (!/^[0-9a-f-]{36}$/i.test(id)) throw bad(`"${id}" is not an objection id`, 'id');
        const [objection] = (
          await tx.query<{ personId: string }>(
            'SELECT person_id AS "personId" FROM objection WHERE id = $1',
            [id],
          )
        ).rows;
        if (!objection) throw new SharedcareError('not-found', `no objection ${id}`);
        const o = (await listObjections(tx, objection.personId, true)).find((x) => x.id === id)!;
        if (r.forOrg && !(await getOrganisation(tx, r.forOrg)))
          throw bad(`organisation ${r.forOrg} is not registered`, 'forOrg');
        const deciding = await getOrganisation(tx, actor.org);
        const override = await recordOverride(tx, {
          objection: o,
          ground: r.ground,
          reason: r.reason,
          endsOn: r.endsOn,
          ...(r.forOrg ? { forOrg: r.forOrg } : {}),
          // the notice names the deciding organisation as the person knows it, not only its code
          decidedBy: {
            userId: actor.userId,
            role: actor.role,
            org: actor.org,
            ...((actor.orgName ?? deciding?.name) ? { orgName: actor.orgName ?? deciding?.name } : {}),
          },
          allowedRoles: overrideRoles,
          ...(opts.regionName ? { regionName: opts.regionName } : {}),
        });
        await audit(tx, actor, {
          action: 'objection.override',
          personId: o.personId,
          reasons: [`objection-overridden-${override.ground}`],
          detail: `objection ${id} not upheld until ${override.endsAt}${override.forOrg ? ` for ${override.forOrg}` : ''}`,
        });
        return override;
      }),

    endOverride: (actor: Actor, id: string) =>
      db.transaction(async (tx) => {
        const v = await endOverride(tx, id);
        await audit(tx, actor, {
          action: 'objection.override-end',
          personId: v.personId,
          detail: `override ${id} ended early`,
        });
        return v;
      }),

    /** The national data opt-out: secondary use only; kept apart from objections. */
    setOptOut: (actor: Actor, b: { nhs: string; optedOut: boolean; source: string }) =>
      db.transaction(async (tx) => {
        const nhsNumber = checkedNhsNumber(b.nhs);
        if (!b.source.trim())
          throw bad('say where the opt-out status came from (e.g. the national service)', 'source');
        const status = await setOptOut(tx, {
          nhsNumber,
          optedOut: b.optedOut,
          source: b.source,
          recordedBy: actor.userId,
        });
        await audit(tx, actor, { action: 'admin.change', detail: 'national data opt-out status recorded' });
        return status;
      }),

    getOptOut: (actor: Actor, nhs: string) =>
      db.transaction(async (tx) => {
        const status = await getOptOut(tx, checkedNhsNumber(nhs));
        await audit(tx, actor, { action: 'objection.list', detail: 'national data opt-out status read' });
        return status ?? { nhsNumber: checkedNhsNumber(nhs), optedOut: false, source: 'no record' };
      }),
  };
}
