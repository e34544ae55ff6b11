/**
 * The gate: the one way clinical data is read. Each read here says what it locates and what it
 * reads; governed.ts runs it: access → policy → the store read (with the
 * policy's filter in SQL) → the audit event, and the caller gets the data only once the audit
 * event is written. What a reader gets also passes through here: never-shared organisations are
 * not named, references to hidden items are removed, notices are added.
 */
import {
  boundElsewhereError,
  createLaunch,
  grantBreakGlass,
  isBoundElsewhere,
  BREAK_GLASS_REASONS,
  type AccessRules,
  type BreakGlassGrant,
} from '../access/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { CLINICAL_TYPES } from '../fhir/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { findPersonByNhsNumber, getPerson, pendingReviewsFor, type Person } from '../identity/index.ts';
import { listObjections, listOverrides, objectionToConsent, type Classifier } from '../policy/index.ts';
import { itemOwner, readItems, withheldKinds, type ItemQuery, type ItemRow } from '../store/index.ts';
import { searchsetBundle } from './bundle.ts';
import { recordNotices } from './notices.ts';
import { withoutHiddenReferences } from './references.ts';
import { combinedPatient, minimalPatient } from './patient.ts';
import { createGovernor, type Granted, type Outcome, type ReadContext } from './governed.ts';
import { reconciledRead } from './reconciled.ts';
import type { ReconcileRules } from '../reconcile/index.ts';
import { createFhirReads, type FhirReads } from './fhir-reads.ts';

export type { ReadContext };

/** Bundles come back as UTF-8 bytes, ready to send (see searchsetBundle); one item as its stored text. */
export interface Gate extends FhirReads {
  /** GET /fhir/Patient?identifier=…|N */
  findPatientByNhsNumber(ctx: ReadContext, nhsNumber: string): Promise<Buffer>;
  /** GET /fhir/Patient/{id} */
  readPatient(ctx: ReadContext, personId: string): Promise<Buffer>;
  /** GET /fhir/Patient/{id}/$everything */
  everything(ctx: ReadContext, personId: string): Promise<Buffer>;
  /** GET /fhir/Patient/{id}/$reconciled: $everything with sources reconciled (src/gate/reconciled.ts) */
  reconciled(ctx: ReadContext, personId: string): Promise<string>;
  /**
   * GET /fhir/{Type}/{id}: one item, as stored; not-found when it does not exist, was removed, or
   * is withheld from this reader (the three look the same). Reading a document (the documents
   * section's types: DocumentReference, Composition, QuestionnaireResponse) is audited as a view.
   */
  readItem(ctx: ReadContext, resourceType: string, id: string): Promise<string>;
  /** GET /fhir/Consent?patient={id}: the person's objections (history included), never the data */
  consents(ctx: ReadContext, personId: string): Promise<Buffer>;
  /**
   * POST /launch: registers a SMART launch for the user and the person with this NHS number. A
   * session bound to another patient is refused here, and the refusal audited, as a read would be.
   */
  launch(ctx: ReadContext, nhsNumber: string): Promise<{ launch: string; expiresAt: string }>;
  /** POST /fhir/Patient/{id}/$break-glass */
  breakGlass(ctx: ReadContext, personId: string, reason: string, note?: string): Promise<BreakGlassGrant>;
}

export interface GateOptions {
  regionTtlMs?: number;
  /** organisations whose every item is never shared: not even named in what a reader gets */
  neverSharedOrganisation?: (ods: string) => boolean;
  /**
   * the policy's classifier, for what `_include` brings in (directory entries); without one no
   * directory entry is included, since none could be classified
   */
  classify?: Classifier;
  rules?: AccessRules;
  breakGlassMinutes?: number;
  /** the time of decisions, grants and audit events (default: the system clock; tests inject one) */
  clock?: () => Date;
  /** the reconciliation rules (default: config/reconcile-rules.json) */
  reconcileRules?: ReconcileRules;
}

export function createGate(db: Database, fhirBaseUrl: string, opts: GateOptions = {}): Gate {
  const { region, auditUser, audit, contextOf, decide, governed, clock } = createGovernor(db, opts);
  const neverShared = opts.neverSharedOrganisation ?? (() => false);

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

  /** the record's notices; an objection names the organisation as the region knows it */
  const noticesFor = (g: Granted, identityPending = 0) =>
    recordNotices(
      g.policy,
      g.access,
      neverShared,
      (ods) => g.region.organisations.get(ods)?.name,
      identityPending,
    );

  const patientOf = (tx: Queryable, g: Granted) =>
    g.policy.withheld ? minimalPatient(g.person) : combinedPatient(tx, g, neverShared);

  const patientBundle = async (tx: Queryable, g: Granted) => ({
    value: searchsetBundle(
      fhirBaseUrl,
      { resource: await patientOf(tx, g), mode: 'match' },
      [],
      noticesFor(g),
    ),
    ids: [g.person.id],
  });

  /** A Patient search with no relationship: the id (to break glass with) and why, nothing more. */
  const idOnly = (person: Person, reason: string) =>
    searchsetBundle(fhirBaseUrl, { resource: minimalPatient(person), mode: 'match' }, [], {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'warning', code: 'forbidden', diagnostics: reason }],
    });

  const reconciled = reconciledRead({
    governed,
    fhirBaseUrl,
    clock,
    shownItems,
    patientOf,
    noticesFor,
    ...(opts.reconcileRules ? { rules: opts.reconcileRules } : {}),
  });

  return {
    reconciled,
    // the FHIR API's searches, $everything by page, $summary (src/gate/fhir-reads.ts)
    ...createFhirReads({
      db,
      fhirBaseUrl,
      governed,
      decide,
      audit,
      contextOf,
      region,
      clock,
      neverShared,
      classify: opts.classify ?? (() => ['unclassified']),
      noticesFor,
      patientOf,
    }),
    findPatientByNhsNumber: (ctx, nhs) =>
      governed(
        ctx,
        'patient.search',
        'Patient?identifier=nhs-number',
        async (q) => (await findPersonByNhsNumber(q, nhs))?.id,
        patientBundle,
        {
          onNoRelationship: idOnly,
          // known only through records of organisations that are never shared: not found at all,
          // as a demographic search answers (src/gate/fhir-reads.ts findPatients)
          unseen: (links, snapshot) =>
            links.length > 0 && links.every((l) => neverShared(snapshot.sources.get(l.sourceId)?.org ?? '')),
        },
      ),

    // By id, the caller may not know whose record it is: without a relationship the answer is the
    // one for an id that names no one (audited and alerted as refused), unless the session was
    // launched for this person (it was given the NHS number; the viewer shows it before break glass).
    readPatient: (ctx, personId) =>
      governed(ctx, 'patient.search', 'Patient/{id}', () => personId, patientBundle, {
        ...(ctx.user.patient !== undefined ? { onNoRelationship: idOnly } : {}),
        notFound: 'No Patient matches',
        personRefusalAsNotFound: true,
      }),

    everything: (ctx, personId) =>
      governed(
        ctx,
        'record.open',
        'Patient/{id}/$everything',
        () => personId,
        async (tx, g) => {
          const { rows, withheld } = await shownItems(tx, g);
          const patient = await patientOf(tx, g);
          const notices = noticesFor(g, g.pendingReviews ?? (await pendingReviewsFor(tx, g.person.id)));
          return {
            withheld,
            // the Bundle is written out while the audit event is (governed.ts builtWhileAudited)
            build: () => searchsetBundle(fhirBaseUrl, { resource: patient, mode: 'include' }, rows, notices),
            ids: [g.person.id, ...rows.map((r) => r.id)],
          };
        },
        { pendingReviews: true },
      ),

    readItem: (ctx, resourceType, id) =>
      governed<string>(
        ctx,
        // letters, reports, forms: the documents section's types (DocumentReference, Composition, …)
        CLINICAL_TYPES[resourceType]?.section === 'documents' ? 'document.view' : 'record.search',
        `${resourceType}/{id}`,
        (q) => itemOwner(q, resourceType, id),
        async (tx, g) => {
          const { rows, withheld } = await shownItems(tx, g, { types: [resourceType], ids: [id] });
          const row = rows[0];
          // withheld, or outside the reader's sections: answered exactly as an id that never existed
          if (!row) return { missing: true, withheld };
          return { value: row.body, ids: [row.id], withheld };
        },
        // the same answer whether the item is missing, withheld or someone else's
        { notFound: `No ${resourceType} matches`, personRefusalAsNotFound: true },
      ),

    consents: (ctx, personId) =>
      governed(
        ctx,
        'objection.list',
        'Consent?patient={id}',
        () => personId,
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

    async launch(ctx, nhs) {
      const result = await db.transaction(
        async (tx): Promise<Outcome<{ launch: string; expiresAt: string }>> => {
          if (!isBoundElsewhere(ctx.user, nhs))
            return { ok: true, value: await createLaunch(tx, ctx.user, nhs) };
          const person = await findPersonByNhsNumber(tx, nhs);
          await audit(tx, {
            ...contextOf(ctx),
            action: 'access.refused',
            outcome: 'refused',
            reasons: ['other-patient-in-context'],
            detail: 'launch',
            ...(person ? { personId: person.id } : {}),
          });
          return { ok: false, error: boundElsewhereError() };
        },
      );
      if (!result.ok) throw result.error;
      return result.value;
    },

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
          now: clock(),
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
