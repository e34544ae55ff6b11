/**
 * How every read runs: in one transaction, access (organisation, role, patient in context,
 * legitimate relationship or break glass) → policy (the person's objections and overrides, the
 * role's sections) → the caller's read (with the policy's filter in SQL) → the audit event. The
 * transaction commits only if the audit event was written; only then does the caller get the data.
 * Refusals and not-found answers are audited too.
 */
import {
  activeBreakGlass,
  decideRecordAccess,
  relationshipsWith,
  ALL_SECTIONS,
  type AccessDecision,
  type AccessRules,
  type UserPrincipal,
} from '../access/index.ts';
import { recordAuditEvent, type AuditAction, type AuditEventInput } from '../audit/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import type { Person } from '../identity/index.ts';
import { decideRecord, listObjections, listOverrides, type RecordDecision } from '../policy/index.ts';
import { createRegionDirectory, type RegionSnapshot } from '../region/index.ts';

export interface ReadContext {
  user: UserPrincipal;
  /** the calling system, if it said (e.g. a client id) */
  client?: string;
  /** the caller's network address and the request's id, for the audit trail */
  network?: string;
  requestId?: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SharedcareError };

export interface Granted {
  person: Person;
  access: Extract<AccessDecision, { allowed: true }>;
  policy: RecordDecision;
  region: RegionSnapshot;
}

export function createGovernor(
  db: Database,
  opts: { regionTtlMs?: number; rules?: AccessRules; clock?: () => Date },
) {
  const region = createRegionDirectory(db, opts.regionTtlMs);
  // the time of every decision and audit event (tests inject one; the alert rules depend on it)
  const clock = opts.clock ?? (() => new Date());
  const rules = opts.rules;
  const auditUser = (u: UserPrincipal): AuditEventInput['user'] => ({
    id: u.userId,
    org: u.org,
    role: u.role,
    name: u.name,
    issuer: u.issuer,
    ...(u.postcode ? { postcode: u.postcode } : {}),
  });

  /** Who asked, from where: the audit event's user, client, network address and request id. */
  const contextOf = (ctx: ReadContext) => ({
    user: auditUser(ctx.user),
    ...(ctx.client ? { client: ctx.client } : {}),
    ...(ctx.network ? { network: ctx.network } : {}),
    ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
  });

  async function audit(tx: Queryable, event: AuditEventInput): Promise<void> {
    try {
      await recordAuditEvent(tx, event, { now: clock() });
    } catch {
      throw new SharedcareError(
        'audit-unavailable',
        'The access could not be recorded in the audit trail, so nothing is returned. Try again shortly.',
      );
    }
  }

  /** Access facts and decision for one user and person (inside the transaction). */
  async function decide(
    tx: Queryable,
    user: UserPrincipal,
    person: Person | undefined,
    snapshot: RegionSnapshot,
  ): Promise<AccessDecision> {
    const now = clock();
    const org = snapshot.organisations.get(user.org);
    const [relationships, breakGlass] = person
      ? [await relationshipsWith(tx, person.id, user.org), await activeBreakGlass(tx, person.id, user, now)]
      : [[], undefined];
    return decideRecordAccess(
      user,
      { org, personNhsNumber: person?.nhsNumber ?? null, relationships, breakGlass, now },
      rules,
    );
  }

  /**
   * Runs one governed read. `read` returns the data and the ids it releases; the audit event naming
   * them is written before the transaction commits.
   */
  async function governed<T>(
    ctx: ReadContext,
    action: AuditAction,
    describe: string,
    locate: (tx: Queryable) => Promise<Person | undefined>,
    /**
     * the value, the ids it releases, and why anything of the person's is withheld (items read);
     * or `missing`: nothing the reader may see answers the request (audited, then not-found)
     */
    read: (
      tx: Queryable,
      g: Granted,
    ) => Promise<{ value: T; ids: string[]; withheld?: string[] } | { missing: true; withheld?: string[] }>,
    opts: {
      /** a Patient search answers with only the record's id (to break glass with), not a refusal */
      onNoRelationship?: (person: Person, reason: string) => T;
      /** what not-found says: the same whether nothing was found or nothing may be shown */
      notFound?: string;
      /**
       * a refusal that is about this person (no relationship, another patient in context) answers
       * not-found: a read that starts from an item's id must not tell that the item exists
       */
      personRefusalAsNotFound?: boolean;
    } = {},
  ): Promise<T> {
    const notFound = opts.notFound ?? 'No person matches';
    // Read the region before the transaction: PGlite has one connection, so a query outside the
    // transaction while it is open would wait for it forever.
    const snapshot = await region.snapshot();
    const result = await db.transaction(async (tx): Promise<Outcome<T>> => {
      const base = { ...contextOf(ctx), query: describe };
      const person = await locate(tx);
      const access = await decide(tx, ctx.user, person, snapshot);
      const personOnly =
        !access.allowed && (access.code === 'no-relationship' || access.code === 'other-patient-in-context');
      if (!person && !(access.allowed || personOnly)) {
        // refused before it matters whether the person exists: do not reveal it
      } else if (!person) {
        await audit(tx, { ...base, action, outcome: 'error', reasons: ['not-found'] });
        return { ok: false, error: new SharedcareError('not-found', notFound) };
      }
      if (!access.allowed) {
        const refusal = {
          ...base,
          action: 'access.refused' as const,
          outcome: 'refused' as const,
          reasons: [access.code],
          detail: action,
          ...(person ? { personId: person.id } : {}),
        };
        if (person && access.code === 'no-relationship' && opts.onNoRelationship) {
          await audit(tx, { ...refusal, returnedIds: [person.id] });
          return { ok: true, value: opts.onNoRelationship(person, access.reason) };
        }
        await audit(tx, refusal);
        if (personOnly && opts.personRefusalAsNotFound)
          return { ok: false, error: new SharedcareError('not-found', notFound) };
        return { ok: false, error: new SharedcareError('forbidden', access.reason) };
      }
      const p = person!;
      const objections = await listObjections(tx, p.id);
      // overrides matter only where there is an objection to override
      const overrides = objections.length > 0 ? await listOverrides(tx, p.id, true) : [];
      const policy = decideRecord(objections, overrides, { org: ctx.user.org });
      const hidden = ALL_SECTIONS.filter((s) => !access.sections.includes(s));
      policy.filter.excludeSections.push(...hidden);
      const got = await read(tx, { person: p, access, policy, region: snapshot });
      const reasons = [
        ...(access.breakGlass ? ['break-glass'] : []),
        ...policy.reasons,
        ...(got.withheld ?? []).map((k) => `withheld-${k}`),
        ...(hidden.length ? ['role-sections'] : []),
      ];
      const decided = { ...base, action, personId: p.id, basis: access.basis };
      if ('missing' in got) {
        await audit(tx, {
          ...decided,
          outcome: 'error',
          returnedIds: [],
          reasons: ['not-found', ...reasons],
        });
        return { ok: false, error: new SharedcareError('not-found', notFound) };
      }
      await audit(tx, { ...decided, outcome: 'success', returnedIds: got.ids, reasons });
      return { ok: true, value: got.value };
    });
    if (!result.ok) throw result.error;
    return result.value;
  }

  return { region, auditUser, audit, contextOf, decide, governed, clock };
}
