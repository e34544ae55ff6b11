/**
 * Stage: resolve references. Which person each clinical item is about (its patient sent in this
 * request, or linked by an earlier one), and every reference rewritten to Sharedcare's ids. An
 * item whose patient this source has never sent is an error for the whole request.
 */
import type { Resource } from '@medplum/fhirtypes';
import { lockKeysForTransaction, type Queryable } from '../../db/index.ts';
import { SharedcareError, type Problem } from '../../errors/index.ts';
import { CLINICAL_TYPES, isClinicalType, patientIdentifier, patientReferences } from '../../fhir/index.ts';
import {
  BY_NHS_NUMBER,
  isValidNhsNumber,
  NHS_NUMBER_SYSTEM,
  normaliseNhsNumber,
  type PersonLinker,
} from '../../identity/index.ts';
import type { Entry } from '../parse.ts';
import {
  entryLocalId,
  rewriteReferences,
  unresolvedIdentifierReferences,
  type LocalRef,
  type RequestIndex,
} from '../references.ts';
import {
  fileAs,
  fileConditionals,
  heldItems,
  localIdsByName,
  newConditionalName,
  resolveStoredNames,
  type StoredNameSought,
} from './stored-names.ts';
import { resourcePath } from './validate.ts';
import type { IntakeRun } from './types.ts';

/** A clinical item with its person found and its references rewritten. */
export interface ResolvedItem {
  /** the entry's position in the request */
  i: number;
  resource: Resource;
  localId: string;
  personId: string;
  localPatientId: string;
}

/**
 * The source-local id of the patient a clinical entry names. A patient named by identifier alone
 * (`subject: {identifier: {system: nhs-number, value}}`, as the National Record Locator's pointers
 * do) is the Patient of this request that carries it, or else, by NHS number, the person this source
 * has sent a record of (BY_NHS_NUMBER).
 */
export function patientLocalOf(e: Entry, index: RequestIndex): string | undefined {
  for (const ref of patientReferences(e.resource!)) {
    const target = index.resolve(ref.reference!);
    if (target?.type === 'Patient') return target.localId;
  }
  const named = patientIdentifier(e.resource!);
  if (!named) return undefined;
  const inRequest = index.resolveIdentifier('Patient', named.identifier);
  if (inRequest?.type === 'Patient') return inRequest.localId;
  const nhs = named.identifier.system === NHS_NUMBER_SYSTEM ? normaliseNhsNumber(named.identifier.value) : '';
  return isValidNhsNumber(nhs) ? `${BY_NHS_NUMBER}${nhs}` : undefined;
}

function clinicalEntries(run: IntakeRun): { e: Entry; i: number }[] {
  return run.entries
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => e.resource && isClinicalType(e.resource.resourceType));
}

/**
 * Looks up the persons of patients the items name but this request did not send: first what the
 * names stand for where they are another name of a record (stored-names.ts: the source's latest
 * word), then, in one query, the persons of the records.
 */
export async function resolvePersons(tx: Queryable, linker: PersonLinker, run: IntakeRun): Promise<void> {
  const missing = new Set<string>();
  for (const { e } of clinicalEntries(run)) {
    const l = patientLocalOf(e, run.index);
    if (l && !run.personByLocal.has(l)) missing.add(l);
  }
  if (missing.size === 0) return;
  const named = await resolveStoredNames(
    tx,
    run,
    [...missing].filter((l) => !l.startsWith(BY_NHS_NUMBER)).map((localId) => ({ type: 'Patient', localId })),
  );
  for (const n of named) missing.delete(n.name);
  const records = [...missing, ...named.map((n) => n.localId)];
  for (const [l, p] of await linker.resolveSourcePatients(tx, run.source.id, records))
    run.personByLocal.set(l, p);
}

/**
 * Finds, in one query, the items an earlier request of this source stored that this request's
 * items name by identifier only (`encounter: {type, identifier}`, `Encounter?identifier=s|v`), so
 * that the reference is rewritten to the item and links to it: an observation recorded at a
 * sexual-health clinic visit sent last week must be withheld with the visit. The same query finds
 * the item a conditional create made before (conditional-create.ts): the entry becomes that item.
 * Only the source's own items of the named types, for the persons this request's items are about,
 * and only those whose text holds one of the identifiers sought, are read. Before it, the
 * source's ids the items name that are aliases of stored items are resolved (stored-names.ts).
 */
export async function resolveStoredIdentifiers(tx: Queryable, run: IntakeRun): Promise<void> {
  const persons = new Set<string>();
  const types = new Set<string>();
  const values = new Set<string>();
  let untyped = false;
  const conditional: { e: Entry; person: string }[] = [];
  const byId: StoredNameSought[] = [];
  const renamable: Entry[] = [];
  const { entries, byItem: personOf } = itemPersons(run);
  for (const { e, person } of entries) {
    if (!person) continue;
    // sent under an id of its own: that id may be another name of a stored item (stored-names.ts)
    if (!e.conditional && typeof e.resource!.id === 'string') {
      renamable.push(e);
      // a client updates by Sharedcare's id with a PUT; a POST's id is the sender's (or an alias)
      byId.push({
        type: e.resource!.resourceType,
        localId: entryLocalId(e)!,
        aliasOnly: e.method === 'POST',
      });
    }
    if (e.conditional) {
      conditional.push({ e, person });
      persons.add(person);
      types.add(e.resource!.resourceType);
      values.add(e.conditional.value);
    }
    for (const ref of unresolvedIdentifierReferences(
      e.resource!,
      run.index,
      samePersonAs(personOf, person),
      byId,
    )) {
      persons.add(person);
      values.add(ref.value);
      if (ref.type) types.add(ref.type);
      else untyped = true;
    }
  }
  await resolveNames(tx, run, byId, renamable);
  if (persons.size === 0) return;
  await lockConditionals(tx, run.source.id, conditional);
  const found = await storedByIdentifier(tx, run.source.id, [...persons], untyped ? null : [...types], [
    ...values,
  ]);
  const personOfEntry = new Map(conditional.map(({ e, person }) => [e, person]));
  const key = (e: Entry) =>
    `${e.resource!.resourceType}|${personOfEntry.get(e)}|${e.conditional!.system}|${e.conditional!.value}`;
  const sought = conditional.map(({ e }) => e);
  await fileConditionals(
    run,
    sought,
    (e) => found.get(key(e))?.localId,
    () =>
      heldItems(
        tx,
        run,
        sought.filter((e) => !found.get(key(e))),
      ),
    (e) => newConditionalName(e, `${personOfEntry.get(e)}:`),
  );
  run.storedByIdentifier = found;
}

/**
 * The ids this request's items name, and those its entries are sent under, that are other names of
 * stored items (stored-names.ts): a reference then rewrites to the item, an entry is filed as it.
 */
async function resolveNames(
  tx: Queryable,
  run: IntakeRun,
  named: StoredNameSought[],
  entries: Entry[],
): Promise<void> {
  const found = await resolveStoredNames(tx, run, named);
  if (found.length === 0) return;
  const local = localIdsByName(found);
  for (const e of entries) {
    const to = local.get(`${e.resource!.resourceType}/${entryLocalId(e)}`);
    if (to !== undefined) fileAs(run, e, to);
  }
}

/**
 * Two requests creating the same item conditionally at once (a retry sent while the first is still
 * running) would each find nothing and each store one. Each takes a transaction-level advisory lock
 * per (source, type, identifier) before it looks, so the second waits for the first to commit and
 * then finds its item (held until commit; identity's locks are taken before).
 */
async function lockConditionals(tx: Queryable, sourceId: string, entries: { e: Entry }[]): Promise<void> {
  if (entries.length === 0) return;
  const keys = entries.map(
    ({ e }) =>
      `conditional|${sourceId}|${e.resource!.resourceType}|${e.conditional!.system}|${e.conditional!.value}`,
  );
  await lockKeysForTransaction(tx, 23, keys);
}

/**
 * The source's stored items of these persons (and types: null for any) by `type|person|system|value`
 * of each identifier they carry, and `|person|system|value` (undefined where two types carry it).
 * A body is parsed only when its text holds one of the values, as JSON spells it.
 */
async function storedByIdentifier(
  tx: Queryable,
  sourceId: string,
  persons: string[],
  types: string[] | null,
  values: string[],
): Promise<Map<string, LocalRef | undefined>> {
  const { rows } = await tx.query<{
    person: string;
    type: string;
    local: string;
    system: string | null;
    value: string;
  }>(
    `SELECT c.person_id AS person, c.resource_type AS type, c.source_local_id AS local,
            i->>'system' AS system, i->>'value' AS value
       FROM clinical_item c,
            LATERAL (SELECT c.body::jsonb -> 'identifier' AS ids) b,
            jsonb_array_elements(CASE jsonb_typeof(b.ids) WHEN 'array' THEN b.ids
                                  WHEN 'object' THEN jsonb_build_array(b.ids) ELSE '[]'::jsonb END) i
      WHERE c.person_id = ANY($1::uuid[]) AND c.source_id = $2 AND NOT c.deleted
        AND ($3::text[] IS NULL OR c.resource_type = ANY($3::text[]))
        AND EXISTS (SELECT 1 FROM unnest($4::text[]) v WHERE strpos(c.body, v) > 0)
      -- where two items carry the identifier the last row is taken: a withheld one, else the newest
      ORDER BY cardinality(c.sensitivity) > 0, c.received_at, c.id`,
    [persons, sourceId, types, values.map((v) => JSON.stringify(v))],
  );
  const found = new Map<string, LocalRef | undefined>();
  for (const row of rows) {
    if (row.value === null) continue;
    const ref = { type: row.type, localId: row.local };
    const key = `${row.person}|${row.system ?? ''}|${row.value}`;
    found.set(`${row.type}|${key}`, ref);
    const other = found.get(`|${key}`);
    found.set(`|${key}`, found.has(`|${key}`) && other?.type !== row.type ? undefined : ref);
  }
  return found;
}

interface ClinicalEntry {
  e: Entry;
  i: number;
  /** the source-local patient id, and its person where known */
  local: string | undefined;
  person: string | undefined;
}

/**
 * The request's clinical entries with their patient and person (each found once), and the person
 * of each by "Type/localId" (undefined: not known yet).
 */
function itemPersons(run: IntakeRun): { entries: ClinicalEntry[]; byItem: Map<string, string | undefined> } {
  const byItem = new Map<string, string | undefined>();
  const entries = clinicalEntries(run).map(({ e, i }) => {
    const local = patientLocalOf(e, run.index);
    const person = local ? run.personByLocal.get(local) : undefined;
    byItem.set(`${e.resource!.resourceType}/${entryLocalId(e)}`, person);
    return { e, i, local, person };
  });
  return { entries, byItem };
}

/** Whether an item of the request is this person's (or of a person not known yet). */
function samePersonAs(byItem: Map<string, string | undefined>, person: string) {
  return (ref: LocalRef): boolean => {
    const of = byItem.get(`${ref.type}/${ref.localId}`);
    return of === undefined || of === person;
  };
}

/** The clinical items with references rewritten; throws, naming each, for items of unknown patients. */
export function resolveItems(run: IntakeRun): ResolvedItem[] {
  const problems: Problem[] = [];
  const items: ResolvedItem[] = [];
  const { entries, byItem: personOfItem } = itemPersons(run);
  for (const { e, i, local: localPatientId, person: personId } of entries) {
    if (!personId) {
      const field = CLINICAL_TYPES[e.resource!.resourceType]!.patient;
      problems.push({
        message: `${field} refers to a patient this source has not sent (send the Patient first, or in the same request)`,
        expression: `${resourcePath(e)}.${field}`,
      });
      continue;
    }
    const localId = entryLocalId(e)!;
    const stored = run.storedByIdentifier;
    const resource = rewriteReferences(e.resource!, {
      sourceId: run.source.id,
      index: run.index,
      personFor: (l) => run.personByLocal.get(l),
      samePerson: samePersonAs(personOfItem, personId),
      // only this person's items: an identifier another person's item carries is not this one's
      ...(stored
        ? { stored: (type, system, value) => stored.get(`${type ?? ''}|${personId}|${system}|${value}`) }
        : {}),
    });
    // a patient named by identifier alone is served as a reference to the person, identifier kept
    const named = patientIdentifier(resource);
    if (named) named.reference = `Patient/${personId}`;
    items.push({ i, resource, localId, personId, localPatientId: localPatientId! });
  }
  if (problems.length > 0)
    throw new SharedcareError(
      'invalid-resource',
      'the request refers to unknown patients; nothing was stored',
      problems,
    );
  return items;
}
