/**
 * The search parameters the FHIR API supports, per resource type: the one table that the search
 * itself, the CapabilityStatement and the tests read, so that what is advertised is what works.
 * Names and element paths follow the FHIR R4 search parameter registry; `date` is defined for
 * every type (R4 defines it for most) as when the item happened, the date the record is ordered by.
 */
import { CLINICAL_TYPES } from '../resource-types.ts';

export type ParamType = 'date' | 'token' | 'uri' | 'reference';

export interface SearchParamDef {
  name: string;
  type: ParamType;
  /** dotted element paths (arrays are looked through); the first that has values is used for dates */
  paths: string[];
  documentation: string;
  /** the R4 definition, where R4 defines this parameter for this type */
  definition?: string;
}

/** A reference an `_include` may follow: the param's name and the elements that hold it. */
export interface IncludeDef {
  name: string;
  paths: string[];
  /** what it can point at */
  targets: ('Organization' | 'Practitioner' | 'Medication')[];
}

/**
 * The types with a full table of their own (issue #15's list). Every other clinical type the store
 * holds is searchable too, by patient, date, status and the meta parameters (OTHER_TYPES).
 */
export const SEARCH_TYPES = [
  'AllergyIntolerance',
  'Condition',
  'MedicationStatement',
  'MedicationRequest',
  'Immunization',
  'Observation',
  'DiagnosticReport',
  'Encounter',
  'Appointment',
  'DocumentReference',
  'ServiceRequest',
  'CarePlan',
  'Procedure',
] as const;

const r4 = (type: string, name: string) => `http://hl7.org/fhir/SearchParameter/${type}-${name}`;
const common = (name: string) => `http://hl7.org/fhir/SearchParameter/Resource-${name.slice(1)}`;

function token(
  type: string,
  name: string,
  paths: string[],
  documentation: string,
  own = false,
): SearchParamDef {
  return { name, type: 'token', paths, documentation, ...(own ? {} : { definition: r4(type, name) }) };
}

interface TypeParams {
  code?: { name: string; paths: string[] };
  category?: string[];
  status?: { name: string; paths: string[] };
  includes?: IncludeDef[];
}

const ORG_OR_PRACTITIONER: IncludeDef['targets'] = ['Organization', 'Practitioner'];

const TYPES: Record<(typeof SEARCH_TYPES)[number], TypeParams> = {
  AllergyIntolerance: {
    code: { name: 'code', paths: ['code', 'reaction.substance'] },
    category: ['category'],
    status: { name: 'clinical-status', paths: ['clinicalStatus'] },
    includes: [
      { name: 'recorder', paths: ['recorder'], targets: ORG_OR_PRACTITIONER },
      { name: 'asserter', paths: ['asserter'], targets: ORG_OR_PRACTITIONER },
    ],
  },
  Condition: {
    code: { name: 'code', paths: ['code'] },
    category: ['category'],
    status: { name: 'clinical-status', paths: ['clinicalStatus'] },
    includes: [{ name: 'asserter', paths: ['asserter'], targets: ORG_OR_PRACTITIONER }],
  },
  MedicationStatement: {
    code: { name: 'code', paths: ['medicationCodeableConcept'] },
    category: ['category'],
    status: { name: 'status', paths: ['status'] },
    includes: [
      // stored as medicationCodeableConcept with the entry's extension (src/gate/includes.ts)
      { name: 'medication', paths: ['medicationCodeableConcept'], targets: ['Medication'] },
      { name: 'source', paths: ['informationSource'], targets: ORG_OR_PRACTITIONER },
    ],
  },
  MedicationRequest: {
    code: { name: 'code', paths: ['medicationCodeableConcept'] },
    category: ['category'],
    status: { name: 'status', paths: ['status'] },
    includes: [
      // stored as medicationCodeableConcept with the entry's extension (src/gate/includes.ts)
      { name: 'medication', paths: ['medicationCodeableConcept'], targets: ['Medication'] },
      { name: 'requester', paths: ['requester'], targets: ORG_OR_PRACTITIONER },
    ],
  },
  Immunization: {
    code: { name: 'vaccine-code', paths: ['vaccineCode'] },
    status: { name: 'status', paths: ['status'] },
    includes: [{ name: 'performer', paths: ['performer.actor'], targets: ORG_OR_PRACTITIONER }],
  },
  Observation: {
    code: { name: 'code', paths: ['code'] },
    category: ['category'],
    status: { name: 'status', paths: ['status'] },
    includes: [{ name: 'performer', paths: ['performer'], targets: ORG_OR_PRACTITIONER }],
  },
  DiagnosticReport: {
    code: { name: 'code', paths: ['code'] },
    category: ['category'],
    status: { name: 'status', paths: ['status'] },
    includes: [
      { name: 'performer', paths: ['performer'], targets: ORG_OR_PRACTITIONER },
      { name: 'results-interpreter', paths: ['resultsInterpreter'], targets: ORG_OR_PRACTITIONER },
    ],
  },
  Encounter: {
    code: { name: 'type', paths: ['type'] },
    status: { name: 'status', paths: ['status'] },
    includes: [
      { name: 'service-provider', paths: ['serviceProvider'], targets: ['Organization'] },
      { name: 'practitioner', paths: ['participant.individual'], targets: ['Practitioner'] },
    ],
  },
  Appointment: {
    code: { name: 'service-type', paths: ['serviceType'] },
    status: { name: 'status', paths: ['status'] },
    includes: [{ name: 'practitioner', paths: ['participant.actor'], targets: ['Practitioner'] }],
  },
  DocumentReference: {
    code: { name: 'type', paths: ['type'] },
    category: ['category'],
    status: { name: 'status', paths: ['status'] },
    includes: [
      { name: 'author', paths: ['author'], targets: ORG_OR_PRACTITIONER },
      { name: 'custodian', paths: ['custodian'], targets: ['Organization'] },
    ],
  },
  ServiceRequest: {
    code: { name: 'code', paths: ['code'] },
    category: ['category'],
    status: { name: 'status', paths: ['status'] },
    includes: [
      { name: 'requester', paths: ['requester'], targets: ORG_OR_PRACTITIONER },
      { name: 'performer', paths: ['performer'], targets: ORG_OR_PRACTITIONER },
    ],
  },
  CarePlan: {
    category: ['category'],
    status: { name: 'status', paths: ['status'] },
    includes: [{ name: 'performer', paths: ['activity.detail.performer'], targets: ORG_OR_PRACTITIONER }],
  },
  Procedure: {
    code: { name: 'code', paths: ['code'] },
    category: ['category'],
    status: { name: 'status', paths: ['status'] },
    includes: [{ name: 'performer', paths: ['performer.actor'], targets: ORG_OR_PRACTITIONER }],
  },
};

const STATUS = { name: 'status', paths: ['status'] };
const OTHER_TYPES: Record<string, TypeParams> = {
  Goal: { status: { name: 'lifecycle-status', paths: ['lifecycleStatus'] } },
  MedicationAdministration: { code: { name: 'code', paths: ['medicationCodeableConcept'] }, status: STATUS },
  MedicationDispense: { code: { name: 'code', paths: ['medicationCodeableConcept'] }, status: STATUS },
  Composition: { code: { name: 'type', paths: ['type'] }, category: ['category'], status: STATUS },
};

function paramsTable(type: string): TypeParams | undefined {
  if (!Object.hasOwn(CLINICAL_TYPES, type)) return undefined;
  return (TYPES as Record<string, TypeParams | undefined>)[type] ?? OTHER_TYPES[type] ?? { status: STATUS };
}

/** Every search parameter of a type, in the order the CapabilityStatement lists them. */
export function searchParamsOf(type: string): SearchParamDef[] {
  const t = paramsTable(type);
  const info = CLINICAL_TYPES[type];
  if (!t || !info) return [];
  const patientPath = info.patient === 'participant' ? 'participant.actor' : info.patient;
  const out: SearchParamDef[] = [
    {
      name: 'patient',
      type: 'reference',
      paths: [patientPath],
      documentation: 'Required: the Patient id (as returned by Patient search), with or without "Patient/".',
      definition: r4(type, 'patient'),
    },
    ...(patientPath === 'subject'
      ? [
          {
            name: 'subject',
            type: 'reference' as const,
            paths: ['subject'],
            documentation: 'The same as patient.',
            definition: r4(type, 'subject'),
          },
        ]
      : []),
    {
      name: 'date',
      type: 'date',
      paths: info.dates,
      documentation: `When it happened (${info.dates.join(', ')}: the first present). Prefixes eq ne lt gt le ge sa eb ap; repeat to AND.`,
    },
  ];
  if (t.code) out.push(token(type, t.code.name, t.code.paths, 'system|code, |code or code; comma for OR.'));
  if (t.category) out.push(token(type, 'category', t.category, 'system|code or code; comma for OR.'));
  if (t.status) out.push(token(type, t.status.name, t.status.paths, 'A code; comma for OR.'));
  out.push(
    {
      name: '_lastUpdated',
      type: 'date',
      paths: ['meta.lastUpdated'],
      documentation: 'When Sharedcare received this version from its source. Date prefixes as for date.',
      definition: common('_lastUpdated'),
    },
    {
      name: '_source',
      type: 'uri',
      paths: ['meta.source'],
      documentation: 'The contributing source system: urn:sharedcare:source:{source id}; comma for OR.',
      definition: common('_source'),
    },
    {
      name: '_tag',
      type: 'token',
      paths: ['meta.tag'],
      documentation:
        'The contributing organisation: https://fhir.nhs.uk/Id/ods-organization-code|{ODS code}; comma for OR.',
      definition: common('_tag'),
    },
  );
  return out;
}

/** The `_include` parameters of a type (Type:name); the targets they may point at. */
export function includesOf(type: string): IncludeDef[] {
  return paramsTable(type)?.includes ?? [];
}

export function isSearchType(type: string): boolean {
  return paramsTable(type) !== undefined;
}

/** Paging and result parameters every type search takes. */
export const RESULT_PARAMS = ['_count', '_offset', '_sort', '_include', '_format'] as const;

/** What _sort may name (a leading "-" sorts newest first). */
export const SORT_KEYS = ['date', '_lastUpdated'] as const;

export const MAX_COUNT = 1000;
