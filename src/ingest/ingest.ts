/**
 * Intake of FHIR data from one source: parse → validate (all or nothing) → link patients →
 * resolve references → label → store, in one transaction. A request either stores everything it
 * validly carries or, when anything is wrong, nothing, with every problem located.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError, type Problem } from '../errors/index.ts';
import {
  CLINICAL_TYPES,
  collectCodes,
  collectSecurityLabels,
  effectiveDate,
  itemLinks,
  isClinicalType,
  isEnteredInError,
  patientReferences,
  PROVENANCE_EXTENSION,
  sha256Hex,
  SOURCE_URI_PREFIX,
  ODS_SYSTEM,
  statusOf,
  validateFhirResource,
  type ValidationMode,
} from '../fhir/index.ts';
import type { LinkOutcome, PersonLinker } from '../identity/index.ts';
import { recordAuditEvents, type AuditEventInput } from '../audit/index.ts';
import { markSourceReceived, type SourceSystem } from '../region/index.ts';
import {
  deleteItems,
  propagateLinkedLabels,
  reassignItems,
  writeItems,
  type ItemWrite,
  type WriteResult,
} from '../store/index.ts';
import type { Entry } from './parse.ts';
import { itemId, localIdOf, RequestIndex, rewriteReferences } from './references.ts';
import { assignServerIds } from './server-ids.ts';

export interface IngestDeps {
  db: Database;
  linker: PersonLinker;
  classify: (codes: string[], security: string[], sourceOrg?: string, resource?: unknown) => string[];
  /** before classifying: put in force lists another process imported (policy) */
  refreshLists?: (q: Queryable) => Promise<void>;
  /** after the items are written: queue what the text screen flagged, apply review decisions (policy) */
  settleReviews?: (tx: Queryable, itemIds: string[]) => Promise<unknown>;
  /** 'schema' (default) or 'full' (adds StructureDefinition and invariant checks) */
  validation?: ValidationMode;
  /** legitimate relationships derived from what arrives (owned by the access module) */
  relationships?: RelationshipRecorder;
}

/** How intake tells the access module which organisations care for whom. */
export interface RelationshipRecorder {
  facts(resource: Resource, sourceOrg: string, sourceOrgKind: string | null): unknown[];
  record(
    tx: Queryable,
    items: { itemId: string; personId: string; facts: unknown[]; created?: boolean }[],
  ): Promise<void>;
  reassign(tx: Queryable, itemIds: string[], toPersonId: string): Promise<void>;
}

export type EntryAction =
  'created' | 'updated' | 'unchanged' | 'stale' | 'deleted' | 'not-found' | 'linked' | 'ignored';

export interface EntryResult {
  at: string;
  action: EntryAction;
  resourceType?: string;
  /** Sharedcare's id (Patient: the person) */
  id?: string;
  version?: number;
  note?: string;
}

export interface IngestResult {
  entries: EntryResult[];
  counts: Partial<Record<EntryAction, number>>;
}

/**
 * What "the same content" means for idempotency: the resource with references resolved, without
 * meta. Key order is the sender's (a sender that reorders keys creates a new, identical version).
 */
/**
 * What makes a new version: the content and the source's security labels (a label added or removed
 * later must relabel the item), not the rest of meta (versionId, lastUpdated, tags).
 */
function contentHash(resource: Resource): string {
  const { meta, ...rest } = resource;
  return sha256Hex(JSON.stringify(meta?.security?.length ? { ...rest, '#security': meta.security } : rest));
}

function withProvenance(
  resource: Resource,
  id: string,
  source: SourceSystem,
  localId: string,
  receivedAt: string,
): Resource {
  const prov = {
    url: PROVENANCE_EXTENSION,
    extension: [
      {
        url: 'organisation',
        valueReference: { identifier: { system: ODS_SYSTEM, value: source.org }, display: source.orgName },
      },
      { url: 'sourceSystem', valueString: source.id },
      { url: 'sourceId', valueString: `${resource.resourceType}/${localId}` },
      ...(resource.meta?.versionId ? [{ url: 'sourceVersion', valueString: resource.meta.versionId }] : []),
      ...(resource.meta?.lastUpdated
        ? [{ url: 'sourceLastUpdated', valueInstant: resource.meta.lastUpdated }]
        : []),
      { url: 'received', valueInstant: receivedAt },
    ],
  };
  const r = resource as Resource & { extension?: { url: string }[] };
  return {
    ...resource,
    id,
    meta: {
      lastUpdated: receivedAt,
      source: `${SOURCE_URI_PREFIX}${source.id}`,
      tag: [{ system: ODS_SYSTEM, code: source.org, display: source.orgName }],
      ...(resource.meta?.security ? { security: resource.meta.security } : {}),
    },
    extension: [...(r.extension ?? []).filter((e) => e.url !== PROVENANCE_EXTENSION), prov],
  } as Resource;
}

function validateAll(entries: Entry[], mode: ValidationMode): void {
  const problems: Problem[] = [];
  for (const e of entries) {
    if (!e.resource) continue;
    const at = e.at.startsWith('Bundle') ? `${e.at}.resource` : e.at;
    const own = validateFhirResource(e.resource, at, mode);
    problems.push(...own);
    // Only a valid resource is read (an Appointment's participant may be anything until then).
    if (
      own.length === 0 &&
      isClinicalType(e.resource.resourceType) &&
      patientReferences(e.resource).length === 0
    ) {
      const field = CLINICAL_TYPES[e.resource.resourceType]!.patient;
      problems.push({
        message: `a ${e.resource.resourceType} must name its patient (${field})`,
        expression: `${at}.${field}`,
      });
    }
    if (problems.length >= 100) break;
  }
  if (problems.length > 0)
    throw new SharedcareError(
      'invalid-resource',
      'the request has invalid resources; nothing was stored',
      problems,
    );
}

export interface IngestOptions {
  /** runs last inside the request's transaction: what must commit with the data or not at all */
  inTransaction?: (tx: Queryable) => Promise<void>;
}

export async function ingestEntries(
  deps: IngestDeps,
  source: SourceSystem,
  entries: Entry[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  validateAll(entries, deps.validation ?? 'schema');
  entries = assignServerIds(entries);
  const index = new RequestIndex(entries);
  const receivedAt = new Date().toISOString();
  await deps.refreshLists?.(deps.db);

  const result = await deps.db.transaction(async (tx) => {
    const results: EntryResult[] = entries.map((e) => ({ at: e.at, action: 'ignored' as EntryAction }));

    // 1. Patients: link each source record to a person.
    const patientEntries = entries
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.resource?.resourceType === 'Patient');
    const patients = patientEntries.map(({ e }) => {
      const localId = localIdOf(e.resource!, e.fullUrl)!;
      const patient = rewriteReferences(e.resource as Patient, {
        sourceId: source.id,
        index,
        personFor: () => undefined,
      });
      return { localId, patient: { ...patient, id: localId }, contentHash: contentHash(patient) };
    });
    const links = await deps.linker.linkSourcePatients(
      tx,
      source.id,
      dedupeLast(patients, (p) => p.localId),
    );
    await auditIdentityChanges(tx, source, links);
    const personByLocal = new Map(links.map((l) => [l.localId, l.personId]));
    patientEntries.forEach(({ i }, k) => {
      const link = links.find((l) => l.localId === patients[k]!.localId)!;
      results[i] = {
        at: entries[i]!.at,
        action: link.unchanged ? 'unchanged' : 'linked',
        resourceType: 'Patient',
        id: link.personId,
        note: link.reason,
      };
    });
    const rel = deps.relationships;
    if (rel) {
      const changed = links.filter((l) => !l.unchanged);
      const byLocal = new Map(patients.map((p) => [p.localId, p.patient]));
      await rel.record(
        tx,
        changed.map((l) => ({
          itemId: itemId(source.id, 'Patient', l.localId),
          personId: l.personId,
          facts: rel.facts(byLocal.get(l.localId)!, source.org, source.orgKind),
        })),
      );
    }
    for (const l of links) {
      if (!l.previousPersonId) continue;
      const moved = await reassignItems(tx, source.id, l.localId, l.personId);
      await rel?.reassign(tx, moved, l.personId);
    }

    // 2. Which patients do the clinical items name? Look up the ones not sent in this request.
    const clinical = entries
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.resource && isClinicalType(e.resource.resourceType));
    const patientLocalOf = (e: Entry): string | undefined => {
      for (const ref of patientReferences(e.resource!)) {
        const target = index.resolve(ref.reference!);
        if (target?.type === 'Patient') return target.localId;
      }
      return undefined;
    };
    const missing = [
      ...new Set(
        clinical.map(({ e }) => patientLocalOf(e)).filter((l): l is string => !!l && !personByLocal.has(l)),
      ),
    ];
    for (const [l, p] of await deps.linker.resolveSourcePatients(tx, source.id, missing))
      personByLocal.set(l, p);

    // 3. Map, label and write the clinical items.
    const problems: Problem[] = [];
    const writes = new Map<string, { item: ItemWrite; i: number }>();
    for (const { e, i } of clinical) {
      const resource = e.resource!;
      const localPatient = patientLocalOf(e);
      const personId = localPatient ? personByLocal.get(localPatient) : undefined;
      const info = CLINICAL_TYPES[resource.resourceType]!;
      if (!personId) {
        problems.push({
          message: `${info.patient} refers to a patient this source has not sent (send the Patient first, or in the same request)`,
          expression: `${e.at}${e.at.startsWith('Bundle') ? '.resource' : ''}.${info.patient}`,
        });
        continue;
      }
      const localId = localIdOf(resource, e.fullUrl)!;
      const id = itemId(source.id, resource.resourceType, localId);
      const rewritten = rewriteReferences(resource, {
        sourceId: source.id,
        index,
        personFor: (l) => personByLocal.get(l),
      });
      const codes = collectCodes(rewritten);
      const security = collectSecurityLabels(rewritten);
      const item: ItemWrite = {
        id,
        personId,
        resourceType: resource.resourceType,
        section: info.section,
        sourceId: source.id,
        sourceOrg: source.org,
        sourceLocalId: localId,
        sourcePatientId: localPatient!,
        sourceVersion: resource.meta?.versionId,
        sourceLastUpdated: resource.meta?.lastUpdated,
        contentHash: contentHash(rewritten),
        status: statusOf(rewritten),
        codes,
        security,
        sensitivity: deps.classify(codes, security, source.org, rewritten),
        ...itemLinks(rewritten),
        effective: effectiveDate(rewritten),
        receivedAt,
        deleted: isEnteredInError(rewritten),
        resource: withProvenance(rewritten, id, source, localId, receivedAt),
      };
      const earlier = writes.get(id);
      if (earlier)
        results[earlier.i] = {
          at: entries[earlier.i]!.at,
          action: 'ignored',
          resourceType: resource.resourceType,
          id,
          note: 'superseded by a later entry in this request',
        };
      writes.set(id, { item, i });
    }
    if (problems.length > 0)
      throw new SharedcareError(
        'invalid-resource',
        'the request refers to unknown patients; nothing was stored',
        problems,
      );

    const written = await writeItems(
      tx,
      [...writes.values()].map((w) => w.item),
    );
    [...writes.values()].forEach(
      (w, k) => (results[w.i] = describe(entries[w.i]!, w.item.resourceType, written[k]!)),
    );
    if (rel) {
      const stored = [...writes.values()]
        .map((w, k) => ({ ...w, action: written[k]!.action }))
        .filter((w) => ['created', 'updated', 'deleted'].includes(w.action));
      await rel.record(
        tx,
        stored.map(({ item, action }) => ({
          itemId: item.id,
          personId: item.personId,
          facts: item.deleted ? [] : rel.facts(item.resource, source.org, source.orgKind),
          created: action === 'created',
        })),
      );
    }

    // 4. Deletes.
    const deletes = entries
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.method === 'DELETE' && e.target && isClinicalType(e.target.type));
    const deleted = await deleteItems(
      tx,
      deletes.map(({ e }) => ({ id: itemId(source.id, e.target!.type, e.target!.id) })),
    );
    deletes.forEach(({ e, i }, k) => (results[i] = describe(e, e.target!.type, deleted[k]!)));
    await rel?.record(
      tx,
      deleted.filter((d) => d.action === 'deleted').map((d) => ({ itemId: d.id, personId: '', facts: [] })),
    );

    // 5. Items linked to withheld items are withheld too (either may have just arrived or gone).
    await deps.settleReviews?.(tx, [...writes.keys()]);
    const touched = new Set([...writes.values()].map((w) => w.item.personId));
    if (deletes.length > 0) for (const p of await personsOf(tx, deleted)) touched.add(p);
    await propagateLinkedLabels(tx, [...touched]);

    // 6. Anything else is outside a shared care record.
    entries.forEach((e, i) => {
      if (results[i]!.action === 'ignored' && !results[i]!.note) {
        const type = e.resource?.resourceType ?? e.target?.type ?? 'entry';
        results[i] = {
          at: e.at,
          action: 'ignored',
          resourceType: type,
          note: `${type} is not part of the shared care record`,
        };
      }
    });
    const counts: IngestResult['counts'] = {};
    for (const r of results) counts[r.action] = (counts[r.action] ?? 0) + 1;
    await options.inTransaction?.(tx);
    return { entries: results, counts };
  });
  // Outside the transaction: concurrent requests from one source would otherwise queue on this row.
  await markSourceReceived(deps.db, source.id);
  return result;
}

/**
 * Identity changes are audited: a source record linked to a person for the first time, and one
 * moved from one person to another (split from the first, linked to the second). Re-sends that
 * change nothing are not.
 */
async function auditIdentityChanges(
  tx: Queryable,
  source: SourceSystem,
  links: LinkOutcome[],
): Promise<void> {
  const user = { id: `source:${source.id}`, org: source.org, role: 'source-system' };
  const events: AuditEventInput[] = [];
  for (const l of links) {
    if (l.previousPersonId)
      events.push({
        action: 'identity.split',
        outcome: 'success',
        user,
        personId: l.previousPersonId,
        reasons: [l.reason],
        detail: `a ${source.id} record moved to another person`,
      });
    if (l.created || l.previousPersonId)
      events.push({
        action: 'identity.link',
        outcome: 'success',
        user,
        personId: l.personId,
        reasons: [l.reason],
        detail: `a ${source.id} record linked`,
      });
  }
  // one round trip for the request's identity events, in order
  await recordAuditEvents(tx, events);
}

async function personsOf(tx: Queryable, results: WriteResult[]): Promise<string[]> {
  const ids = results.filter((d) => d.action === 'deleted').map((d) => d.id);
  if (ids.length === 0) return [];
  const { rows } = await tx.query<{ p: string }>(
    'SELECT DISTINCT person_id AS p FROM clinical_item WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return rows.map((r) => r.p);
}

function describe(e: Entry, resourceType: string, w: WriteResult): EntryResult {
  const base = { at: e.at, resourceType, id: w.id, action: w.action };
  if (w.action === 'not-found') return { ...base, note: 'nothing to delete' };
  if (w.action === 'stale')
    return { ...base, version: w.version, note: 'older than the version already held; ignored' };
  return { ...base, version: w.version };
}

function dedupeLast<T>(items: T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const it of items) m.set(key(it), it);
  return [...m.values()];
}
