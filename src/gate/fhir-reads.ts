/**
 * The FHIR API's searches through the gate: a type search with filters, sort, paging and
 * `_include`; `$everything` by page; `$summary`; and the Patient search by demographics. Each runs
 * as every gated read does (governed.ts: access, then policy with its filter in SQL, then the audit
 * event naming exactly what leaves, before it leaves). Only the page asked for is released and
 * audited; filters the store has no column for are applied here, to items the policy already allowed.
 */
import type { Organization, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { AccessDecision, UserPrincipal } from '../access/index.ts';
import type { AuditEventInput } from '../audit/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import {
  CLINICAL_TYPES,
  ignoredOutcomeIssues,
  selectPage,
  storeCodesOf,
  type ParsedSearch,
} from '../fhir/index.ts';
import {
  findPersonsByDemographics,
  pendingReviewsFor,
  type DemographicQuery,
  type Person,
} from '../identity/index.ts';
import {
  decideRecord,
  listObjections,
  listOverrides,
  type Classifier,
  type RecordDecision,
} from '../policy/index.ts';
import type { RegionSnapshot } from '../region/index.ts';
import { itemOwner, readItems, withheldKinds, type ItemRow } from '../store/index.ts';
import type { createGovernor, Granted, ReadContext } from './governed.ts';
import { organisationResource, withIncludes } from './includes.ts';
import { withoutHiddenReferences } from './references.ts';
import { pastVersion } from './versions.ts';
import { entryOf, searchset, type Entry } from './search-bundle.ts';
import { chooseSummaryItems, SUMMARY_TYPES, summaryDocument } from './summary.ts';

/** One page of a person's items: which types, which filters, how sorted, which page, what to include. */
export interface ItemSearch extends Pick<
  ParsedSearch,
  'filters' | 'sort' | 'count' | 'offset' | 'include' | 'ignored'
> {
  /** empty: every type */
  types: string[];
  /** the URL of the page starting at an offset (the applied parameters only) */
  link: (offset: number) => string;
}

export interface FhirReads {
  /** GET /fhir/{Type}?patient={id}&… */
  searchItems(ctx: ReadContext, personId: string, search: ItemSearch, describe: string): Promise<Buffer>;
  /** GET /fhir/Patient/{id}/$everything?_since&_type&_count */
  everythingPage(ctx: ReadContext, personId: string, search: ItemSearch): Promise<Buffer>;
  /** GET /fhir/Patient/{id}/$summary: an IPS-shaped document Bundle */
  summary(ctx: ReadContext, personId: string): Promise<string>;
  /** GET /fhir/Patient?family&given&birthdate&address-postalcode: only people the caller may see */
  findPatients(
    ctx: ReadContext,
    query: DemographicQuery,
    describe: string,
    ignored: string[],
    link: (offset: number) => string,
  ): Promise<Buffer>;
  /**
   * GET /fhir/{Type}/{id}/_history/{vid}: that version of the item, current or superseded; a
   * superseded one only on the terms of src/gate/versions.ts (the item visible now, and the
   * version classified on its own content).
   */
  readVersion(ctx: ReadContext, resourceType: string, id: string, version: string): Promise<string>;
  /** GET /fhir/Organization/{ods}: a region organisation (directory data, not a person's) */
  organisation(ods: string): Promise<Organization | undefined>;
}

type Governor = ReturnType<typeof createGovernor>;

export interface FhirReadDeps {
  db: Database;
  fhirBaseUrl: string;
  governed: Governor['governed'];
  decide: (
    tx: Queryable,
    user: UserPrincipal,
    person: Person | undefined,
    snapshot: RegionSnapshot,
  ) => Promise<AccessDecision>;
  audit: (tx: Queryable, event: AuditEventInput) => Promise<void>;
  contextOf: (ctx: ReadContext) => Omit<AuditEventInput, 'action' | 'outcome'>;
  region: { snapshot(): Promise<RegionSnapshot> };
  clock: () => Date;
  neverShared: (ods: string) => boolean;
  /** the policy's classifier: what `_include` brings in is classified as items are */
  classify: Classifier;
  noticesFor: (g: Granted, identityPending?: number) => OperationOutcome;
  patientOf: (tx: Queryable, g: Granted) => Patient | Promise<Patient>;
}

const datesOf = (type: string) => CLINICAL_TYPES[type]?.dates ?? [];

/** An OperationOutcome of the record's notices and the ignored parameters, as one entry. */
function outcomeOf(notices: OperationOutcome | undefined, ignored: string[]): Entry | undefined {
  const issue = [...(notices?.issue ?? []), ...ignoredOutcomeIssues(ignored)];
  if (issue.length === 0) return undefined;
  return {
    resourceType: 'OperationOutcome',
    id: '',
    body: JSON.stringify({ resourceType: 'OperationOutcome', issue }),
    mode: 'outcome',
  };
}

export function createFhirReads(d: FhirReadDeps): FhirReads {
  /** The page of the person's shown items, references to hidden items removed, includes added. */
  async function pageOf(tx: Queryable, g: Granted, search: ItemSearch) {
    if (g.policy.withheld)
      return {
        rows: [] as ItemRow[],
        total: 0,
        withheld: [] as string[],
        included: [] as Entry[],
        includedIds: [] as string[],
      };
    // the store narrows by code where it can (a superset: the filters below still decide)
    const codes = storeCodesOf(search.filters);
    const read = await readItems(tx, g.person.id, g.policy.filter, {
      ...(search.types.length ? { types: search.types } : {}),
      ...(codes ? { codes } : {}),
    });
    const withheld = read.length > 0 ? (read[0]!.withheld ?? []) : await withheldKinds(tx, g.person.id);
    const parse = search.filters.length > 0 || search.sort.length > 0;
    const candidates = read.map((item) => ({
      item,
      resource: parse ? (JSON.parse(item.body) as unknown) : undefined,
    }));
    const { page, total } = selectPage(candidates, search, datesOf, d.clock());
    const shown = await withoutHiddenReferences(
      tx,
      g.person.id,
      g.policy.filter,
      page.map((c) => c.item),
    );
    const { rows, entries: included, ids: includedIds } = await withIncludes(tx, shown, search.include, g, d);
    return { rows, total, withheld, included, includedIds };
  }

  const matchEntries = (rows: ItemRow[]): Entry[] =>
    rows.map((r) => ({ resourceType: r.resourceType, id: r.id, body: r.body, mode: 'match' }));

  /** the policy's decision for one person and reader (as governed.ts takes it) */
  async function policyFor(tx: Queryable, person: Person, user: UserPrincipal): Promise<RecordDecision> {
    const objections = await listObjections(tx, person.id);
    const overrides = objections.length > 0 ? await listOverrides(tx, person.id, true) : [];
    return decideRecord(objections, overrides, { org: user.org });
  }

  return {
    searchItems: (ctx, personId, search, describe) =>
      d.governed(
        ctx,
        'record.search',
        describe,
        () => personId,
        async (tx, g) => {
          const { rows, total, withheld, included, includedIds } = await pageOf(tx, g, search);
          const outcome = outcomeOf(d.noticesFor(g), search.ignored);
          const entries = [...matchEntries(rows), ...included, ...(outcome ? [outcome] : [])];
          const paging = { total, offset: search.offset, count: search.count, link: search.link };
          return {
            withheld,
            // written out while the audit event is (governed.ts builtWhileAudited)
            build: () => searchset(d.fhirBaseUrl, entries, paging, d.clock()),
            // the audit event names what was included as well as what matched
            ids: [...rows.map((r) => r.id), ...includedIds],
          };
        },
      ),

    everythingPage: (ctx, personId, search) =>
      d.governed(
        ctx,
        'record.open',
        'Patient/{id}/$everything',
        () => personId,
        async (tx, g) => {
          const { rows, total, withheld } = await pageOf(tx, g, search);
          const first = search.offset === 0;
          const patient = first ? [entryOf(d.fhirBaseUrl, await d.patientOf(tx, g), 'include')] : [];
          const outcome = outcomeOf(
            d.noticesFor(g, g.pendingReviews ?? (await pendingReviewsFor(tx, g.person.id))),
            search.ignored,
          );
          const entries = [...patient, ...matchEntries(rows), ...(outcome ? [outcome] : [])];
          const paging = { total, offset: search.offset, count: search.count, link: search.link };
          return {
            withheld,
            // written out while the audit event is (governed.ts builtWhileAudited)
            build: () => searchset(d.fhirBaseUrl, entries, paging, d.clock()),
            ids: [...(first ? [g.person.id] : []), ...rows.map((r) => r.id)],
          };
        },
        { pendingReviews: true },
      ),

    summary: (ctx, personId) =>
      d.governed(
        ctx,
        'record.open',
        'Patient/{id}/$summary',
        () => personId,
        async (tx, g) => {
          const { rows, withheld } = await pageOf(tx, g, {
            types: SUMMARY_TYPES,
            filters: [],
            sort: [],
            count: undefined,
            offset: 0,
            include: [],
            ignored: [],
            link: () => '',
          });
          const sections = chooseSummaryItems(rows);
          const chosen = [...new Set(sections.flatMap((s) => s.rows.map((r) => r.id)))];
          const patient = await d.patientOf(tx, g);
          return {
            withheld,
            value: summaryDocument(d.fhirBaseUrl, patient, sections, d.noticesFor(g), d.clock()),
            ids: [g.person.id, ...chosen],
          };
        },
      ),

    async findPatients(ctx, query, describe, ignored, link) {
      const snapshot = await d.region.snapshot();
      return d.db.transaction(async (tx) => {
        const matches = await findPersonsByDemographics(tx, query);
        const shown: { g: Granted; patient: Patient }[] = [];
        for (const m of matches) {
          // found only through records of organisations that are never shared: not found at all
          if (m.sourceIds.every((id) => d.neverShared(snapshot.sources.get(id)?.org ?? ''))) continue;
          const access = await d.decide(tx, ctx.user, m.person, snapshot);
          // only people the caller may see: no relationship (or another patient in context) is no match
          if (!access.allowed) continue;
          const g: Granted = {
            person: m.person,
            access,
            policy: await policyFor(tx, m.person, ctx.user),
            region: snapshot,
          };
          // found only through records of organisations the person objected to sharing (upheld
          // for this reader): finding them would confirm what those records say (an address)
          const objected = new Set(g.policy.filter.excludeOrgs);
          if (m.sourceIds.every((id) => objected.has(snapshot.sources.get(id)?.org ?? ''))) continue;
          shown.push({ g, patient: await d.patientOf(tx, g) });
        }
        const base = { ...d.contextOf(ctx), query: describe, action: 'patient.search' as const };
        // one event per person shown, so each person's access report lists the search
        for (const s of shown)
          await d.audit(tx, {
            ...base,
            outcome: 'success',
            personId: s.g.person.id,
            returnedIds: [s.g.person.id],
            basis: s.g.access.basis,
            reasons: [...(s.g.access.breakGlass ? ['break-glass'] : []), ...s.g.policy.reasons],
          });
        if (shown.length === 0)
          await d.audit(tx, { ...base, outcome: 'error', reasons: ['not-found'], returnedIds: [] });
        const issues = new Map<string, NonNullable<OperationOutcome['issue']>[number]>();
        for (const s of shown)
          for (const i of d.noticesFor(s.g).issue ?? []) issues.set(i.diagnostics ?? '', i);
        const outcome = outcomeOf({ resourceType: 'OperationOutcome', issue: [...issues.values()] }, ignored);
        const entries = [
          ...shown.map((s) => entryOf(d.fhirBaseUrl, s.patient, 'match')),
          ...(outcome ? [outcome] : []),
        ];
        return searchset(
          d.fhirBaseUrl,
          entries,
          { total: shown.length, offset: 0, count: undefined, link },
          d.clock(),
        );
      });
    },

    readVersion: (ctx, resourceType, id, version) =>
      d.governed<string>(
        ctx,
        CLINICAL_TYPES[resourceType]?.section === 'documents' ? 'document.view' : 'record.search',
        `${resourceType}/{id}/_history/{vid}`,
        (q) => itemOwner(q, resourceType, id),
        async (tx, g) => {
          if (g.policy.withheld) return { missing: true };
          const read = await readItems(tx, g.person.id, g.policy.filter, {
            types: [resourceType],
            ids: [id],
          });
          const withheld = read[0]?.withheld ?? (await withheldKinds(tx, g.person.id));
          const [row] = await withoutHiddenReferences(tx, g.person.id, g.policy.filter, read);
          if (!row) return { missing: true, withheld };
          const currentVersion = (JSON.parse(row.body) as { meta?: { versionId?: string } }).meta?.versionId;
          if (currentVersion === version) return { value: row.body, ids: [row.id], withheld };
          const past =
            Number(version) < Number(currentVersion)
              ? await pastVersion(tx, g, row, Number(version), d.classify)
              : undefined;
          return past ? { value: past, ids: [row.id], withheld } : { missing: true, withheld };
        },
        {
          notFound: `No ${resourceType} version matches`,
          personRefusalAsNotFound: true,
        },
      ),

    async organisation(ods) {
      if (d.neverShared(ods)) return undefined;
      return organisationResource(await d.region.snapshot(), ods);
    },
  };
}
