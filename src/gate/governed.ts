/**
 * How every read runs: access (organisation, role, patient in context, legitimate relationship or
 * break glass) → policy (the person's objections and overrides, the role's sections) → the caller's
 * read (with the policy's filter in SQL) → the audit event; the caller gets the data only once the
 * audit event is written. Refusals and not-found answers are audited too.
 *
 * Three statements for a record open, no transaction: (1) everything the decision needs, in one
 * statement composed of each module's own fragment (src/db/compose.ts): the person, their source
 * records, the reader's relationships and break-glass grants, the objections and overrides, the
 * pending identity reviews; (2) the caller's read, with the policy's filter; (3) the audit append,
 * one atomic statement (src/audit/record.ts recordAccessEvent), committed before the data leaves
 * (a record open's Bundle is assembled while that statement runs: builtWhileAudited). A
 * transaction around them bought nothing: under READ COMMITTED each statement sees its own
 * snapshot anyway, and nothing here is written but the audit event (and, rarely, its alerts).
 */
import {
  activeBreakGlass,
  activeBreakGlassFragment,
  decideRecordAccess,
  relationshipsFragment,
  relationshipsWith,
  ALL_SECTIONS,
  type AccessDecision,
  type AccessRules,
  type RelationshipSummary,
  type UserPrincipal,
} from '../access/index.ts';
import {
  personFactsOf,
  recordAccessEvent,
  recordAuditEvent,
  type AuditAction,
  type AuditEventInput,
} from '../audit/index.ts';
import { readTogether, type Database, type Fragment, type Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import {
  isPersonId,
  pendingReviewsFragment,
  personFragment,
  personLinksFragment,
  type Person,
  type PersonLink,
} from '../identity/index.ts';
import { decideRecord, objectionsFragment, overridesFragment, type RecordDecision } from '../policy/index.ts';
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
  /** the person's source records, where they were read with the decision */
  links?: PersonLink[];
  /** open identity reviews naming the person's records, where the read asked for them */
  pendingReviews?: number;
}

/**
 * What a governed read gives back: the value and the ids it releases, or a `build` that assembles
 * the value from what was read (the ids already known), or `missing`.
 */
export type ReadResult<T> =
  | { value: T; ids: string[]; withheld?: string[] }
  | { build: () => T; ids: string[]; withheld?: string[] }
  | { missing: true; withheld?: string[] };

/**
 * The answer assembled while its audit event is written. The ids a read releases are known before
 * its answer is put together (a record open's Bundle: hundreds of KiB written out on this thread),
 * so the append is sent first and the database commits it, on the other core, while the answer is
 * built here. The answer is handed back only once the append has committed, and dropped if it
 * failed: the audit row is still written before any data leaves. (If building failed, a bug, the
 * trail names ids that were not sent: an over-report, never an access left out of it.)
 */
async function builtWhileAudited<T>(audited: Promise<void>, build: () => T): Promise<T> {
  // a failure while the answer is built is seen below, not as an unhandled rejection
  audited.catch(() => undefined);
  // one turn of the event loop: the pool hands the append its connection and the statement is
  // written to the database in the microtasks before it, so it is under way while build() runs
  await new Promise<void>((resolve) => setImmediate(resolve));
  let value: T;
  try {
    value = build();
  } catch (err) {
    await audited.catch(() => undefined);
    throw err;
  }
  await audited;
  return value;
}

/** A fragment that asks the database nothing (a part the read did not ask for). */
const nothing = <T>(value: T): Fragment<T> => ({ sql: () => 'SELECT NULL::json', decode: () => value });

/** Everything a decision about one person and one reader needs, in one statement. */
async function decisionContext(
  q: Queryable,
  personId: string | undefined,
  user: UserPrincipal,
  now: Date,
  withReviews: boolean,
) {
  if (personId === undefined || !isPersonId(personId))
    return {
      person: undefined,
      links: [],
      relationships: [],
      breakGlass: undefined,
      objections: [],
      overrides: [],
      pendingReviews: 0,
    };
  return readTogether(q, personId, {
    person: personFragment,
    links: personLinksFragment,
    relationships: relationshipsFragment(user.org),
    breakGlass: activeBreakGlassFragment(user, now),
    objections: objectionsFragment(),
    overrides: overridesFragment(true),
    pendingReviews: withReviews ? pendingReviewsFragment : nothing(0),
  });
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

  /** The event of a gated read, appended on its own (no transaction; see recordAccessEvent). */
  async function auditAccess(event: AuditEventInput, person?: { person: Person; links: PersonLink[] }) {
    try {
      await recordAccessEvent(db, event, {
        now: clock(),
        ...(person ? { person: personFactsOf(person.person, person.links) } : {}),
      });
    } catch {
      throw new SharedcareError(
        'audit-unavailable',
        'The access could not be recorded in the audit trail, so nothing is returned. Try again shortly.',
      );
    }
  }

  /** The access decision from facts already read. */
  const decideWith = (
    user: UserPrincipal,
    person: Person | undefined,
    facts: { relationships: RelationshipSummary[]; breakGlass: { expiresAt: string } | undefined },
    snapshot: RegionSnapshot,
    now: Date,
  ): AccessDecision =>
    decideRecordAccess(
      user,
      {
        org: snapshot.organisations.get(user.org),
        personNhsNumber: person?.nhsNumber ?? null,
        relationships: person ? facts.relationships : [],
        breakGlass: person ? facts.breakGlass : undefined,
        now,
      },
      rules,
    );

  /** Access facts and decision for one user and person (inside the transaction). */
  async function decide(
    tx: Queryable,
    user: UserPrincipal,
    person: Person | undefined,
    snapshot: RegionSnapshot,
  ): Promise<AccessDecision> {
    const now = clock();
    const facts = person
      ? {
          relationships: await relationshipsWith(tx, person.id, user.org),
          breakGlass: await activeBreakGlass(tx, person.id, user, now),
        }
      : { relationships: [], breakGlass: undefined };
    return decideWith(user, person, facts, snapshot, now);
  }

  /**
   * Runs one governed read. `locate` says whose record it is (a person id); `read` returns the data
   * and the ids it releases; the audit event naming them is written before the caller gets them.
   */
  async function governed<T>(
    ctx: ReadContext,
    action: AuditAction,
    describe: string,
    locate: (q: Queryable) => string | undefined | Promise<string | undefined>,
    /**
     * the value, the ids it releases, and why anything of the person's is withheld (items read);
     * or `build` in place of the value, to assemble it while the audit event is written (see
     * builtWhileAudited); or `missing`: nothing the reader may see answers the request (audited,
     * then not-found)
     */
    read: (q: Queryable, g: Granted) => Promise<ReadResult<T>>,
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
      /** read the open identity reviews naming the person's records with the decision (Granted) */
      pendingReviews?: boolean;
      /** a person this read answers as if no one were found (from the links the decision reads) */
      unseen?: (links: PersonLink[], region: RegionSnapshot) => boolean;
    } = {},
  ): Promise<T> {
    const notFound = opts.notFound ?? 'No person matches';
    const snapshot = await region.snapshot();
    const base = { ...contextOf(ctx), query: describe };
    const now = clock();
    const c = await decisionContext(db, await locate(db), ctx.user, now, opts.pendingReviews === true);
    const person = c.person && !opts.unseen?.(c.links, snapshot) ? c.person : undefined;
    const about = person ? { person, links: c.links } : undefined;
    const access = decideWith(ctx.user, person, c, snapshot, now);
    const personOnly =
      !access.allowed && (access.code === 'no-relationship' || access.code === 'other-patient-in-context');
    if (!person && !(access.allowed || personOnly)) {
      // refused before it matters whether the person exists: do not reveal it
    } else if (!person) {
      await auditAccess({ ...base, action, outcome: 'error', reasons: ['not-found'] });
      throw new SharedcareError('not-found', notFound);
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
        await auditAccess({ ...refusal, returnedIds: [person.id] }, about);
        return opts.onNoRelationship(person, access.reason);
      }
      await auditAccess(refusal, about);
      if (personOnly && opts.personRefusalAsNotFound) throw new SharedcareError('not-found', notFound);
      throw new SharedcareError('forbidden', access.reason);
    }
    const p = person!;
    // overrides matter only where there is an objection to override
    const policy = decideRecord(c.objections, c.objections.length > 0 ? c.overrides : [], {
      org: ctx.user.org,
    });
    const hidden = ALL_SECTIONS.filter((s) => !access.sections.includes(s));
    policy.filter.excludeSections.push(...hidden);
    const got = await read(db, {
      person: p,
      access,
      policy,
      region: snapshot,
      links: c.links,
      ...(opts.pendingReviews ? { pendingReviews: c.pendingReviews } : {}),
    });
    const reasons = [
      ...(access.breakGlass ? ['break-glass'] : []),
      ...policy.reasons,
      ...(got.withheld ?? []).map((k) => `withheld-${k}`),
      ...(hidden.length ? ['role-sections'] : []),
    ];
    const decided = { ...base, action, personId: p.id, basis: access.basis };
    if ('missing' in got) {
      await auditAccess(
        { ...decided, outcome: 'error', returnedIds: [], reasons: ['not-found', ...reasons] },
        about,
      );
      throw new SharedcareError('not-found', notFound);
    }
    const audited = auditAccess({ ...decided, outcome: 'success', returnedIds: got.ids, reasons }, about);
    if ('build' in got) return builtWhileAudited(audited, got.build);
    await audited;
    return got.value;
  }

  return { region, auditUser, audit, contextOf, decide, governed, clock };
}
