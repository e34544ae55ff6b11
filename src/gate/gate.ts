/**
 * The gate: the one way clinical data is read. Every read runs, in one transaction,
 * access (organisation, role, patient in context, legitimate relationship or break glass) →
 * policy (never-shared items, the person's objections, the role's sections) → the store read
 * (with the policy's filter in SQL) → the audit event. The transaction commits only if the audit
 * event was written; only then does the caller get the data. Refusals are audited too.
 */
import {
  activeBreakGlass,
  decideRecordAccess,
  grantBreakGlass,
  relationshipsWith,
  ALL_SECTIONS,
  BREAK_GLASS_REASONS,
  type AccessDecision,
  type AccessRules,
  type BreakGlassGrant,
  type UserPrincipal,
} from '../access/index.ts';
import { recordAuditEvent, type AuditAction, type AuditEventInput } from '../audit/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { findPersonByNhsNumber, getPerson, type Person } from '../identity/index.ts';
import {
  decideRecord,
  listObjections,
  listOverrides,
  objectionToConsent,
  type RecordDecision,
} from '../policy/index.ts';
import { createRegionDirectory, type RegionSnapshot } from '../region/index.ts';
import { readItems, withheldKinds, type ItemQuery, type ItemRow } from '../store/index.ts';
import { searchsetBundle } from './bundle.ts';
import { recordNotices } from './notices.ts';
import { withoutHiddenReferences } from './references.ts';
import { combinedPatient, minimalPatient } from './patient.ts';

export interface ReadContext {
  user: UserPrincipal;
  /** the calling system, if it said (e.g. a client id) */
  client?: string;
  /** the caller's network address and the request's id, for the audit trail */
  network?: string;
  requestId?: string;
}

export interface Gate {
  /** GET /fhir/Patient?identifier=…|N */
  findPatientByNhsNumber(ctx: ReadContext, nhsNumber: string): Promise<string>;
  /** GET /fhir/Patient/{id} */
  readPatient(ctx: ReadContext, personId: string): Promise<string>;
  /** GET /fhir/Patient/{id}/$everything */
  everything(ctx: ReadContext, personId: string): Promise<string>;
  /** GET /fhir/{Type}?patient={id}&… */
  search(ctx: ReadContext, personId: string, query: ItemQuery, describe: string): Promise<string>;
  /** GET /fhir/Consent?patient={id}: the person's objections (history included), never the data */
  consents(ctx: ReadContext, personId: string): Promise<string>;
  /** POST /fhir/Patient/{id}/$break-glass */
  breakGlass(ctx: ReadContext, personId: string, reason: string, note?: string): Promise<BreakGlassGrant>;
}

export interface GateOptions {
  regionTtlMs?: number;
  /** organisations whose every item is never shared: not even named in what a reader gets */
  neverSharedOrganisation?: (ods: string) => boolean;
  rules?: AccessRules;
  breakGlassMinutes?: number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: SharedcareError };

interface Granted {
  person: Person;
  access: Extract<AccessDecision, { allowed: true }>;
  policy: RecordDecision;
  region: RegionSnapshot;
}

export function createGate(db: Database, fhirBaseUrl: string, opts: GateOptions = {}): Gate {
  const region = createRegionDirectory(db, opts.regionTtlMs);
  const rules = opts.rules;
  const neverShared = opts.neverSharedOrganisation ?? (() => false);
  const auditUser = (u: UserPrincipal): AuditEventInput['user'] => ({
    id: u.userId,
    org: u.org,
    role: u.role,
    name: u.name,
    issuer: u.issuer,
    ...(u.postcode ? { postcode: u.postcode } : {}),
  });

  async function audit(tx: Queryable, event: AuditEventInput): Promise<void> {
    try {
      await recordAuditEvent(tx, event);
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
    const now = new Date();
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
   * them is written before the transaction commits. `onNoRelationship` lets a Patient search answer
   * with only the record's id (so break glass can be asked for) instead of a bare refusal.
   */
  async function governed<T>(
    ctx: ReadContext,
    action: AuditAction,
    describe: string,
    locate: (tx: Queryable) => Promise<Person | undefined>,
    /** the value, the ids it releases, and why anything of the person's is withheld (items read) */
    read: (tx: Queryable, g: Granted) => Promise<{ value: T; ids: string[]; withheld?: string[] }>,
    onNoRelationship?: (person: Person, reason: string) => T,
  ): Promise<T> {
    // Read the region before the transaction: PGlite has one connection, so a query outside the
    // transaction while it is open would wait for it forever.
    const snapshot = await region.snapshot();
    const result = await db.transaction(async (tx): Promise<Outcome<T>> => {
      const base = {
        user: auditUser(ctx.user),
        ...(ctx.client ? { client: ctx.client } : {}),
        ...(ctx.network ? { network: ctx.network } : {}),
        ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
        query: describe,
      };
      const person = await locate(tx);
      const access = await decide(tx, ctx.user, person, snapshot);
      const personOnly =
        !access.allowed && (access.code === 'no-relationship' || access.code === 'other-patient-in-context');
      if (!person && !(access.allowed || personOnly)) {
        // refused before it matters whether the person exists: do not reveal it
      } else if (!person) {
        await audit(tx, { ...base, action, outcome: 'error', reasons: ['not-found'] });
        return { ok: false, error: new SharedcareError('not-found', 'No person matches') };
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
        if (person && access.code === 'no-relationship' && onNoRelationship) {
          await audit(tx, { ...refusal, returnedIds: [person.id] });
          return { ok: true, value: onNoRelationship(person, access.reason) };
        }
        await audit(tx, refusal);
        return { ok: false, error: new SharedcareError('forbidden', access.reason) };
      }
      const p = person!;
      const objections = await listObjections(tx, p.id);
      // overrides matter only where there is an objection to override
      const overrides = objections.length > 0 ? await listOverrides(tx, p.id, true) : [];
      const policy = decideRecord(objections, overrides, { org: ctx.user.org });
      const hidden = ALL_SECTIONS.filter((s) => !access.sections.includes(s));
      policy.filter.excludeSections.push(...hidden);
      const { value, ids, withheld = [] } = await read(tx, { person: p, access, policy, region: snapshot });
      await audit(tx, {
        ...base,
        action,
        outcome: 'success',
        personId: p.id,
        returnedIds: ids,
        basis: access.basis,
        reasons: [
          ...(access.breakGlass ? ['break-glass'] : []),
          ...policy.reasons,
          ...withheld.map((k) => `withheld-${k}`),
          ...(hidden.length ? ['role-sections'] : []),
        ],
      });
      return { ok: true, value };
    });
    if (!result.ok) throw result.error;
    return result.value;
  }

  /**
   * The items this reader may see (none when the whole record is withheld), as served, and why
   * anything of the person's is withheld for everyone (it comes with the rows; asked for apart
   * only when no row came back).
   */
  const shownItems = async (
    tx: Queryable,
    g: Granted,
    query?: ItemQuery,
  ): Promise<{ rows: ItemRow[]; withheld: string[] }> => {
    if (g.policy.withheld) return { rows: [], withheld: [] };
    const read = await readItems(tx, g.person.id, g.policy.filter, query);
    const withheld = read.length > 0 ? (read[0]!.withheld ?? []) : await withheldKinds(tx, g.person.id);
    return { rows: await withoutHiddenReferences(tx, g.person.id, g.policy.filter, read), withheld };
  };

  const patientOf = (tx: Queryable, g: Granted) =>
    g.policy.withheld ? minimalPatient(g.person) : combinedPatient(tx, g.person, g.region, neverShared);

  const patientBundle = async (tx: Queryable, g: Granted) => ({
    value: searchsetBundle(
      fhirBaseUrl,
      { resource: await patientOf(tx, g), mode: 'match' },
      [],
      recordNotices(g.policy, g.access, neverShared),
    ),
    ids: [g.person.id],
  });

  /** A Patient search with no relationship: the id (to break glass with) and why, nothing more. */
  const idOnly = (person: Person, reason: string) =>
    searchsetBundle(fhirBaseUrl, { resource: minimalPatient(person), mode: 'match' }, [], {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'warning', code: 'forbidden', diagnostics: reason }],
    });

  return {
    findPatientByNhsNumber: (ctx, nhs) =>
      governed(
        ctx,
        'patient.search',
        'Patient?identifier=nhs-number',
        (tx) => findPersonByNhsNumber(tx, nhs),
        patientBundle,
        idOnly,
      ),

    readPatient: (ctx, personId) =>
      governed(ctx, 'patient.search', 'Patient/{id}', (tx) => getPerson(tx, personId), patientBundle, idOnly),

    everything: (ctx, personId) =>
      governed(
        ctx,
        'record.open',
        'Patient/{id}/$everything',
        (tx) => getPerson(tx, personId),
        async (tx, g) => {
          const { rows, withheld } = await shownItems(tx, g);
          return {
            withheld,
            value: searchsetBundle(
              fhirBaseUrl,
              { resource: await patientOf(tx, g), mode: 'include' },
              rows,
              recordNotices(g.policy, g.access, neverShared),
            ),
            ids: [g.person.id, ...rows.map((r) => r.id)],
          };
        },
      ),

    search: (ctx, personId, query, describe) =>
      governed(
        ctx,
        'record.search',
        describe,
        (tx) => getPerson(tx, personId),
        async (tx, g) => {
          const { rows, withheld } = await shownItems(tx, g, query);
          return {
            withheld,
            value: searchsetBundle(
              fhirBaseUrl,
              undefined,
              rows,
              recordNotices(g.policy, g.access, neverShared),
            ),
            ids: rows.map((r) => r.id),
          };
        },
      ),

    consents: (ctx, personId) =>
      governed(
        ctx,
        'objection.list',
        'Consent?patient={id}',
        (tx) => getPerson(tx, personId),
        async (tx, g) => {
          const objections = await listObjections(tx, g.person.id, true);
          const overrides = await listOverrides(tx, g.person.id);
          const consents = objections.map((o) =>
            objectionToConsent(o, overrides, { neverSharedOrganisation: neverShared }),
          );
          return {
            value: searchsetBundle(
              fhirBaseUrl,
              undefined,
              consents.map((c) => ({
                id: c.id!,
                resourceType: 'Consent',
                body: JSON.stringify(c),
                refs: null,
                withheld: null,
              })),
            ),
            ids: consents.map((c) => c.id!),
          };
        },
      ),

    async breakGlass(ctx, personId, reason, note) {
      const snapshot = await region.snapshot();
      const result = await db.transaction(async (tx): Promise<Outcome<BreakGlassGrant>> => {
        const person = await getPerson(tx, personId);
        const access = await decide(tx, ctx.user, person, snapshot);
        const blocked = !access.allowed && access.code !== 'no-relationship';
        if (blocked || !person) {
          await audit(tx, {
            user: auditUser(ctx.user),
            action: 'access.refused',
            outcome: 'refused',
            reasons: [access.allowed ? 'not-found' : access.code],
            detail: 'break-glass',
          });
          if (!person && !blocked)
            return { ok: false, error: new SharedcareError('not-found', 'No person matches') };
          return {
            ok: false,
            error: new SharedcareError('forbidden', access.allowed ? 'No person matches' : access.reason),
          };
        }
        const grant = await grantBreakGlass(tx, {
          personId,
          user: ctx.user,
          reason,
          note,
          minutes: opts.breakGlassMinutes ?? 60,
        });
        await audit(tx, {
          user: auditUser(ctx.user),
          action: 'break-glass',
          outcome: 'success',
          personId,
          reasons: ['break-glass', reason],
          detail: `${BREAK_GLASS_REASONS[grant.reason]}${note ? `: ${note}` : ''}; until ${grant.expiresAt}`,
        });
        return { ok: true, value: grant };
      });
      if (!result.ok) throw result.error;
      return result.value;
    },
  };
}
