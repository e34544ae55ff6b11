import { randomUUID } from 'node:crypto';
import type { Extension, Identifier, Patient } from '@medplum/fhirtypes';
import { readOne, type Fragment, type Queryable } from '../db/index.ts';
import { NHS_NUMBER_SYSTEM } from './nhs-number.ts';

export interface Person {
  id: string;
  nhsNumber: string | null;
  verified: boolean;
}

export interface PersonLink {
  sourceId: string;
  localId: string;
  reason: string;
  updatedAt: string;
  demographics: Patient;
}

export const SOURCE_RECORD_EXTENSION = 'https://sharedcare.dev/fhir/StructureDefinition/source-record';
export const UNVERIFIED_EXTENSION = 'https://sharedcare.dev/fhir/StructureDefinition/identity-unverified';

export async function findPersonByNhsNumber(q: Queryable, nhsNumber: string): Promise<Person | undefined> {
  return (
    await q.query<Person>(
      'SELECT id, nhs_number AS "nhsNumber", verified FROM person WHERE nhs_number = $1',
      [nhsNumber],
    )
  ).rows[0];
}

/**
 * The person for each NHS number, created where there is none. Two requests may bring the same new
 * number at the same moment (a GP record and a hospital admission): the insert skips a number
 * another transaction has just taken (waiting for it to commit), and the select then reads that
 * person, so both requests link to one person and neither fails on the unique key. Numbers go in
 * sorted order, so that two requests inserting several numbers cannot deadlock.
 */
export async function ensurePersonsByNhsNumber(
  q: Queryable,
  nhsNumbers: string[],
): Promise<Map<string, string>> {
  const numbers = [...new Set(nhsNumbers)].sort();
  if (numbers.length === 0) return new Map();
  await q.query(
    `INSERT INTO person (id, nhs_number, verified)
     SELECT id, n, true FROM unnest($1::uuid[], $2::text[]) AS t(id, n)
     ON CONFLICT (nhs_number) DO NOTHING`,
    [numbers.map(() => randomUUID()), numbers],
  );
  const { rows } = await q.query<{ id: string; nhs_number: string }>(
    'SELECT id, nhs_number FROM person WHERE nhs_number = ANY($1::text[])',
    [numbers],
  );
  return new Map(rows.map((r) => [r.nhs_number, r.id]));
}

const UUID = /^[0-9a-f-]{36}$/i;

/** The person with this id (a fragment of a composed read: src/db/compose.ts). */
export const personFragment: Fragment<Person | undefined> = {
  sql: () =>
    `SELECT json_build_object('id', id, 'nhsNumber', nhs_number, 'verified', verified) FROM person WHERE id = $1`,
  decode: (v) => (v ?? undefined) as Person | undefined,
};

/** The person's source records, most recently updated first (a fragment of a composed read). */
export const personLinksFragment: Fragment<PersonLink[]> = {
  sql: () =>
    `SELECT coalesce(json_agg(json_build_object('sourceId', source_id, 'localId', local_id, 'reason', link_reason,
       'updatedAt', updated_at::text, 'demographics', demographics) ORDER BY updated_at DESC), '[]')
     FROM person_link WHERE person_id = $1`,
  decode: (v) =>
    ((v ?? []) as (Omit<PersonLink, 'demographics'> & { demographics: string })[]).map((l) => ({
      ...l,
      demographics: JSON.parse(l.demographics) as Patient,
    })),
};

/** Whether a string can be a person's id (anything else names no one, without asking the database). */
export const isPersonId = (id: string): boolean => UUID.test(id);

export async function getPerson(q: Queryable, id: string): Promise<Person | undefined> {
  if (!isPersonId(id)) return undefined;
  return readOne(q, id, personFragment);
}

export async function getPersonLinks(q: Queryable, personId: string): Promise<PersonLink[]> {
  return readOne(q, personId, personLinksFragment);
}

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const RESTRICTED_LABEL = { system: CONFIDENTIALITY, code: 'R', display: 'restricted' };
/** Where a person lives and how to reach them are never shown for a restricted (S-flagged) person. */
const HIDDEN_WHEN_RESTRICTED = new Set(['telecom', 'address', 'contact']);

const UK_CORE = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-';

/**
 * The source's own Patient extensions shown on the combined Patient: those a clinician acts on
 * (ethnicity, residential status, how to communicate, an interpreter, contact preferences, the
 * nominated pharmacy). An allow-list, not the rest: birth sex, gender identity and the like tell
 * of gender reassignment, which is never shared, and a region's local extensions are unknown.
 */
const SHOWN_EXTENSIONS = new Set([
  `${UK_CORE}EthnicCategory`,
  `${UK_CORE}ResidentialStatus`,
  `${UK_CORE}NHSCommunication`,
  `${UK_CORE}ContactPreference`,
  `${UK_CORE}NominatedPharmacy`,
  `${UK_CORE}PreferredDispenserOrganization`,
  `${UK_CORE}MedicalApplianceSupplier`,
  'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired',
]);
/** say where a person lives or is reached: left out for a restricted person, as the address is */
const LOCATING_EXTENSIONS = new Set([
  `${UK_CORE}ContactPreference`,
  `${UK_CORE}NominatedPharmacy`,
  `${UK_CORE}PreferredDispenserOrganization`,
  `${UK_CORE}MedicalApplianceSupplier`,
]);

/**
 * An allowed extension with only its own parts: a sub-extension named by an absolute URL is another
 * extension nested inside (a gender identity inside NHSCommunication), and is left out, at any depth.
 */
function ownParts<T>(node: T): T {
  if (Array.isArray(node)) return node.map(ownParts) as T;
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    out[k] =
      k === 'extension' || k === 'modifierExtension'
        ? (v as { url?: string }[]).filter((x) => !/^[a-z][a-z0-9+.-]*:/i.test(x?.url ?? '')).map(ownParts)
        : ownParts(v);
  }
  return out as T;
}

/** goes with the death it describes, from the source that reports the death */
const DEATH_NOTIFICATION = `${UK_CORE}DeathNotificationStatus`;

/**
 * A person whose address must not be disclosed (PDS "S flag", a source's restricted or very
 * restricted label): one source saying so is enough.
 */
export function isRestricted(p: Patient): boolean {
  return (p.meta?.security ?? []).some(
    (c) => c.system === CONFIDENTIALITY && (c.code === 'R' || c.code === 'V'),
  );
}

export interface SourceLabel {
  org: string;
  orgName: string;
  /** organisations whose demographics are preferred (the registered GP) rank lower */
  rank: number;
}

/**
 * One Patient for the person, built from every linked source record: the NHS number, each
 * source's own identifiers (with the organisation as assigner), and the demographics of the best
 * source: one linked by a verified NHS number first, then the best-ranked organisation, then the
 * most recently updated. The registered GP is the exception: it comes from the best of the sources
 * that name one, since a source that names none does not know it (a GP system's own record often
 * leaves out the practice it is; a hospital's PD1 says it), and so is a death (any source that
 * reports one, the best first). An extension per source record shows
 * who knows them.
 */
export function composePatient(
  person: Person,
  links: PersonLink[],
  labels: Map<string, SourceLabel>,
  /** links left out of `links` (e.g. from a never-shared organisation) still count for restriction */
  restrictedElsewhere = false,
): Patient {
  // the documented rule: sources linked by a verified NHS number first, then the organisation's
  // rank (the registered GP first), then the most recently updated
  const verifiedFirst = (l: PersonLink) => (l.reason === 'nhs-number' ? 0 : 1);
  const ranked = [...links].sort(
    (a, b) =>
      verifiedFirst(a) - verifiedFirst(b) ||
      (labels.get(a.sourceId)?.rank ?? 9) - (labels.get(b.sourceId)?.rank ?? 9) ||
      b.updatedAt.localeCompare(a.updatedAt),
  );
  const base = ranked[0]?.demographics;
  const identifier: Identifier[] = [];
  if (person.nhsNumber) {
    identifier.push({
      system: NHS_NUMBER_SYSTEM,
      value: person.nhsNumber,
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
          valueCodeableConcept: {
            coding: [
              {
                system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland',
                code: '01',
                display: 'Number present and verified',
              },
            ],
          },
        },
      ],
    });
  }
  const extension: Extension[] = [];
  for (const link of links) {
    const label = labels.get(link.sourceId);
    for (const id of link.demographics.identifier ?? []) {
      if (id.system === NHS_NUMBER_SYSTEM) continue;
      identifier.push({
        ...id,
        assigner: {
          identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: label?.org ?? '' },
          display: label?.orgName ?? link.sourceId,
        },
      });
    }
    extension.push({
      url: SOURCE_RECORD_EXTENSION,
      extension: [
        { url: 'source', valueString: link.sourceId },
        {
          url: 'organisation',
          valueReference: {
            identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: label?.org ?? '' },
            display: label?.orgName ?? link.sourceId,
          },
        },
        { url: 'localId', valueString: link.localId },
        { url: 'linkedBy', valueCode: link.reason },
        { url: 'updated', valueInstant: new Date(link.updatedAt).toISOString() },
      ],
    });
  }
  if (!person.verified) extension.push({ url: UNVERIFIED_EXTENSION, valueBoolean: true });
  const restricted = restrictedElsewhere || links.some((l) => isRestricted(l.demographics));
  for (const e of base?.extension ?? [])
    if (SHOWN_EXTENSIONS.has(e.url) && !(restricted && LOCATING_EXTENSIONS.has(e.url)))
      extension.push(ownParts(e));
  const patient: Patient = {
    resourceType: 'Patient',
    id: person.id,
    meta: {
      ...(restricted ? { security: [RESTRICTED_LABEL] } : {}),
      tag: links.map((l) => ({
        system: 'https://fhir.nhs.uk/Id/ods-organization-code',
        code: labels.get(l.sourceId)?.org ?? l.sourceId,
        display: labels.get(l.sourceId)?.orgName,
      })),
    },
    extension,
    identifier,
  };
  // A death any source reports is shown, whichever source is best: a hospital records it first,
  // and a GP record that has not heard yet must not hide it. From the best source that says so.
  const dead = ranked.find((l) => l.demographics.deceasedDateTime || l.demographics.deceasedBoolean === true);
  if (dead) {
    const { deceasedDateTime, deceasedBoolean } = dead.demographics;
    if (deceasedDateTime) patient.deceasedDateTime = deceasedDateTime;
    else patient.deceasedBoolean = deceasedBoolean;
    extension.push(...(dead.demographics.extension ?? []).filter((e) => e.url === DEATH_NOTIFICATION));
  }
  for (const field of [
    'active',
    'name',
    'telecom',
    'gender',
    'birthDate',
    ...(dead ? [] : (['deceasedBoolean', 'deceasedDateTime'] as const)),
    'address',
    'maritalStatus',
    'multipleBirthBoolean',
    'multipleBirthInteger',
    'contact',
    'communication',
    'generalPractitioner',
  ] as const) {
    if (restricted && HIDDEN_WHEN_RESTRICTED.has(field)) continue;
    const from =
      field === 'generalPractitioner'
        ? ranked.find((l) => l.demographics.generalPractitioner?.length)?.demographics
        : base;
    if (from && from[field] !== undefined)
      (patient as unknown as Record<string, unknown>)[field] = from[field];
  }
  // FHIR JSON has no empty arrays (a person whose every record is left out has no tags or extensions)
  if (extension.length === 0) delete patient.extension;
  if (patient.meta!.tag!.length === 0) delete patient.meta!.tag;
  if (Object.keys(patient.meta!).length === 0) delete patient.meta;
  return patient;
}
