/**
 * Turns the property's item and person descriptions into the FHIR R4 resources a source would send.
 * Each resource type has a table row: its section of the record, its statuses, the elements that
 * link it to other items, and the element in which it names an organisation. Every item carries a
 * distinctive marker in its narrative, so that a leak of any part of it can be found in any body.
 */
import type { Resource } from '@medplum/fhirtypes';
import { searchParamsOf, valuesAt } from '../../src/fhir/index.ts';
import { ODS, type Code, type Label } from './catalogue.ts';

/** How an element links to another item (src/fhir/links.ts states the same rule for the server). */
export type LinkKind = 'depends-on' | 'contains';
export const LINK_KIND: Record<string, LinkKind> = {
  basedOn: 'depends-on',
  partOf: 'depends-on',
  encounter: 'depends-on',
  context: 'depends-on',
  reasonReference: 'depends-on',
  derivedFrom: 'depends-on',
  focus: 'depends-on',
  addresses: 'depends-on',
  diagnosis: 'depends-on',
  supportingInfo: 'depends-on',
  supportingInformation: 'depends-on',
  episodeOfCare: 'depends-on',
  appointment: 'depends-on',
  result: 'contains',
  hasMember: 'contains',
  evidence: 'contains',
  activity: 'contains',
};

interface TypeRow {
  section: string;
  statuses: readonly string[];
  /** elements (keys of LINK_KIND) through which this type links to other items */
  links: readonly string[];
}

export const ITEM_TYPES = {
  Condition: { section: 'problems', statuses: ['active', 'resolved'], links: ['encounter', 'evidence'] },
  Observation: {
    section: 'results',
    statuses: ['final', 'preliminary'],
    links: ['basedOn', 'partOf', 'encounter', 'derivedFrom', 'focus', 'hasMember'],
  },
  DiagnosticReport: {
    section: 'results',
    statuses: ['final', 'preliminary'],
    links: ['basedOn', 'encounter', 'result'],
  },
  MedicationRequest: {
    section: 'medications',
    statuses: ['active', 'stopped', 'completed'],
    links: ['basedOn', 'encounter', 'reasonReference'],
  },
  Encounter: {
    section: 'encounters',
    statuses: ['in-progress', 'planned', 'finished', 'cancelled'],
    links: ['basedOn', 'partOf', 'reasonReference', 'diagnosis', 'episodeOfCare', 'appointment'],
  },
  EpisodeOfCare: { section: 'encounters', statuses: ['active', 'finished'], links: [] },
  ServiceRequest: {
    section: 'referrals',
    statuses: ['active', 'completed', 'revoked', 'draft'],
    links: ['basedOn', 'encounter', 'reasonReference', 'supportingInfo'],
  },
  Appointment: {
    section: 'appointments',
    statuses: ['booked', 'fulfilled', 'cancelled', 'proposed'],
    links: ['basedOn', 'reasonReference', 'supportingInformation'],
  },
  DocumentReference: { section: 'documents', statuses: ['current', 'superseded'], links: ['context'] },
  CarePlan: {
    section: 'care-plans',
    statuses: ['active', 'completed'],
    links: ['basedOn', 'partOf', 'encounter', 'addresses', 'activity'],
  },
  CareTeam: { section: 'care-plans', statuses: ['active', 'inactive'], links: ['encounter'] },
  Procedure: {
    section: 'procedures',
    statuses: ['completed', 'in-progress'],
    links: ['basedOn', 'partOf', 'encounter', 'reasonReference'],
  },
  Flag: { section: 'alerts', statuses: ['active', 'inactive'], links: ['encounter'] },
  AllergyIntolerance: { section: 'allergies', statuses: ['active', 'resolved'], links: ['encounter'] },
  Immunization: {
    section: 'immunisations',
    statuses: ['completed', 'not-done'],
    links: ['encounter', 'reasonReference'],
  },
} as const satisfies Record<string, TypeRow>;

export type ItemType = keyof typeof ITEM_TYPES;
export const TYPE_NAMES = Object.keys(ITEM_TYPES) as ItemType[];
export const ALL_STATUSES = [...new Set(TYPE_NAMES.flatMap((t) => ITEM_TYPES[t].statuses))];

export interface ItemInput {
  type: ItemType;
  localId: string;
  patientRef: string;
  marker: string;
  codes: readonly Code[];
  labels: readonly Label[];
  status: string;
  enteredInError: boolean;
  /** ISO instant, or none */
  when: string | undefined;
  names: { ods: string; name: string } | undefined;
  /** element → "Type/localId" of the linked item */
  links: { field: string; ref: string }[];
}

const cc = (c: Code) => ({
  coding: [{ system: c.system, code: c.code, display: c.display }],
  text: c.display,
});
const ref = (r: string) => ({ reference: r });
const orgRef = (o: { ods: string; name: string }) => ({
  identifier: { system: ODS, value: o.ods },
  display: o.name,
});
const minutesLater = (iso: string, m: number) => new Date(Date.parse(iso) + m * 60_000).toISOString();

/** The elements holding links, in each element's own shape. */
function linkElements(type: ItemType, links: ItemInput['links']): Record<string, unknown> {
  const out: Record<string, unknown[]> = {};
  for (const { field, ref: r } of links) (out[field] ??= []).push(r);
  const shaped: Record<string, unknown> = {};
  for (const [field, refs] of Object.entries(out)) {
    if (field === 'encounter' || (field === 'partOf' && type === 'Encounter'))
      shaped[field] = ref(refs[0] as string);
    else if (field === 'evidence') shaped.evidence = [{ detail: refs.map((r) => ref(r as string)) }];
    else if (field === 'diagnosis') shaped.diagnosis = refs.map((r) => ({ condition: ref(r as string) }));
    else if (field === 'activity') shaped.activity = refs.map((r) => ({ reference: ref(r as string) }));
    else if (field === 'context') shaped.context = { encounter: refs.map((r) => ref(r as string)) };
    else shaped[field] = refs.map((r) => ref(r as string));
  }
  return shaped;
}

const clinical = (system: string, code: string) => ({ coding: [{ system, code }] });
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const entered = (system: string) => ({ verificationStatus: clinical(system, 'entered-in-error') });

/** The item as its source sends it. */
export function itemResource(i: ItemInput): Resource {
  const [first, second] = i.codes as [Code, Code | undefined];
  const extra = second ? [cc(second)] : undefined;
  const status = i.enteredInError ? 'entered-in-error' : i.status;
  const subject = ref(i.patientRef);
  const w = i.when;
  const named = i.names ? orgRef(i.names) : undefined;
  const byType: Record<ItemType, () => Record<string, unknown>> = {
    Condition: () => ({
      clinicalStatus: clinical(CONDITION_CLINICAL, i.status),
      ...(i.enteredInError ? entered('http://terminology.hl7.org/CodeSystem/condition-ver-status') : {}),
      code: cc(first),
      subject,
      ...(w ? { onsetDateTime: w } : {}),
      ...(named ? { asserter: named } : {}),
      ...(extra ? { category: extra } : {}),
    }),
    Observation: () => ({
      status,
      code: cc(first),
      subject,
      ...(w ? { effectiveDateTime: w } : {}),
      ...(named ? { performer: [named] } : {}),
      ...(second ? { valueCodeableConcept: cc(second) } : {}),
    }),
    DiagnosticReport: () => ({
      status,
      code: cc(first),
      subject,
      ...(w ? { effectiveDateTime: w } : {}),
      ...(named ? { performer: [named] } : {}),
      ...(extra ? { conclusionCode: extra } : {}),
    }),
    MedicationRequest: () => ({
      status,
      intent: 'order',
      medicationCodeableConcept: cc(first),
      subject,
      ...(w ? { authoredOn: w } : {}),
      ...(named ? { requester: named } : {}),
      ...(extra ? { reasonCode: extra } : {}),
    }),
    Encounter: () => ({
      status,
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      serviceType: cc(first),
      subject,
      ...(w ? { period: { start: w } } : {}),
      ...(named ? { serviceProvider: named } : {}),
      ...(extra ? { reasonCode: extra } : {}),
    }),
    EpisodeOfCare: () => ({
      status,
      type: [cc(first), ...(extra ?? [])],
      patient: subject,
      ...(w ? { period: { start: w } } : {}),
      ...(named ? { managingOrganization: named } : {}),
    }),
    ServiceRequest: () => ({
      status,
      intent: 'order',
      code: cc(first),
      subject,
      ...(w ? { authoredOn: w } : {}),
      ...(named ? { performer: [named] } : {}),
      ...(extra ? { reasonCode: extra } : {}),
    }),
    Appointment: () => ({
      status,
      serviceType: [cc(first)],
      ...(extra ? { reasonCode: extra } : {}),
      ...(w ? { start: w, end: minutesLater(w, 30) } : {}),
      participant: [
        { actor: subject, status: 'accepted' },
        ...(named ? [{ actor: named, status: 'accepted' }] : []),
      ],
    }),
    DocumentReference: () => ({
      status: i.enteredInError ? 'entered-in-error' : i.status,
      type: cc(first),
      ...(extra ? { category: extra } : {}),
      subject,
      ...(w ? { date: w } : {}),
      ...(named ? { custodian: named } : {}),
      content: [{ attachment: { contentType: 'text/plain', title: i.marker } }],
    }),
    CarePlan: () => ({
      status,
      intent: 'plan',
      category: [cc(first), ...(extra ?? [])],
      subject,
      ...(w ? { period: { start: w } } : {}),
      ...(named ? { author: named } : {}),
    }),
    CareTeam: () => ({
      status,
      category: [cc(first), ...(extra ?? [])],
      subject,
      ...(w ? { period: { start: w } } : {}),
      ...(named ? { managingOrganization: [named] } : {}),
    }),
    Procedure: () => ({
      status,
      code: cc(first),
      subject,
      ...(w ? { performedDateTime: w } : {}),
      ...(named ? { performer: [{ actor: named }] } : {}),
      ...(extra ? { reasonCode: extra } : {}),
    }),
    Flag: () => ({
      status,
      code: cc(first),
      ...(extra ? { category: extra } : {}),
      subject,
      ...(w ? { period: { start: w } } : {}),
      ...(named ? { author: named } : {}),
    }),
    AllergyIntolerance: () => ({
      clinicalStatus: clinical(ALLERGY_CLINICAL, i.status),
      ...(i.enteredInError
        ? entered('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification')
        : {}),
      code: cc(first),
      patient: subject,
      ...(w ? { recordedDate: w } : {}),
      ...(named ? { recorder: named } : {}),
      ...(extra ? { reaction: [{ manifestation: extra }] } : {}),
    }),
    Immunization: () => ({
      status,
      vaccineCode: cc(first),
      patient: subject,
      ...(w ? { occurrenceDateTime: w } : { occurrenceString: 'date not recorded' }),
      ...(named ? { performer: [{ actor: named }] } : {}),
      ...(extra ? { reasonCode: extra } : {}),
    }),
  };
  return {
    resourceType: i.type,
    id: i.localId,
    ...(i.labels.length
      ? { meta: { security: i.labels.map((l) => ({ system: l.system, code: l.code })) } }
      : {}),
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${i.marker}</div>` },
    ...byType[i.type](),
    ...linkElements(i.type, i.links),
  } as unknown as Resource;
}

/**
 * Every "system|code" anywhere in an item (organisation identifiers as ODS codes too), which is
 * what a `code=` search matches against; security labels and the narrative are not codes.
 */
export function codesIn(resource: Resource): string[] {
  const out = new Set<string>();
  const walk = (node: unknown, top: boolean): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, false));
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.system === 'string' && typeof o.code === 'string') out.add(`${o.system}|${o.code}`);
    else if (o.system === ODS && typeof o.value === 'string') out.add(`${ODS}|${o.value}`);
    for (const [k, v] of Object.entries(o)) if (!(top && (k === 'meta' || k === 'text'))) walk(v, false);
  };
  walk(resource, true);
  return [...out];
}

export interface PatientInput {
  localId: string;
  nhs: string;
  family: string;
  /** marks the record restricted (an S-flagged person): the address must never be shown */
  restrictedAddress: string | undefined;
  generalPractitioner: { ods: string; name: string } | undefined;
}

/** The postcode of every restricted person's address (the PDQm search asks for it). */
export const RESTRICTED_POSTCODE = 'NE1 1AA';

export function patientResource(p: PatientInput): Resource {
  return {
    resourceType: 'Patient',
    id: p.localId,
    ...(p.restrictedAddress
      ? {
          meta: {
            security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
          },
          address: [{ line: [p.restrictedAddress], postalCode: RESTRICTED_POSTCODE }],
        }
      : {}),
    identifier: [
      { system: 'https://fhir.nhs.uk/Id/nhs-number', value: p.nhs },
      { system: 'https://example.nhs.uk/Id/local', value: p.localId },
    ],
    name: [{ family: p.family, given: ['Sam'] }],
    gender: 'unknown',
    birthDate: '1980-06-15',
    ...(p.generalPractitioner ? { generalPractitioner: [orgRef(p.generalPractitioner)] } : {}),
  } as Resource;
}

const STATUS_PARAMS = new Set(['status', 'clinical-status', 'lifecycle-status']);
const CODE_PARAMS = new Set(['code', 'vaccine-code', 'type', 'service-type']);

/** The type's status search parameter (R4: clinical-status for problems and allergies). */
export function statusParamOf(type: string): string {
  return searchParamsOf(type).find((d) => STATUS_PARAMS.has(d.name))?.name ?? 'status';
}

/** The type's code search parameter and the elements it reads, if R4 gives the type one. */
export function codeParamOf(type: string): { name: string; paths: string[] } | undefined {
  return searchParamsOf(type).find((d) => CODE_PARAMS.has(d.name));
}

/** What a search by the type's code parameter matches: the "system|code"s in its elements. */
export function searchCodesIn(resource: Resource): string[] {
  const param = codeParamOf(resource.resourceType);
  return param
    ? param.paths.flatMap((p) => valuesAt(resource, p)).flatMap((v) => codesIn(v as Resource))
    : [];
}
