/**
 * GET /fhir/metadata: the CapabilityStatement, built from the same tables the search runs on
 * (src/fhir/search/definitions.ts), so that it states what works and nothing else; a test drives
 * every parameter it lists, and refuses under strict handling every one it does not.
 */
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
} from '@medplum/fhirtypes';
import { CLINICAL_TYPES, includesOf, searchParamsOf, type SearchParamDef } from '../fhir/index.ts';
import { RECONCILED_OPERATION } from './reconciled-routes.ts';

type ResourceType = CapabilityStatementRestResource['type'];

const asSearchParam = (d: SearchParamDef): CapabilityStatementRestResourceSearchParam => ({
  name: d.name,
  type: d.type,
  ...(d.definition ? { definition: d.definition } : {}),
  documentation: d.documentation,
});

const PATIENT_SEARCH: CapabilityStatementRestResourceSearchParam[] = [
  {
    name: 'identifier',
    type: 'token',
    definition: 'http://hl7.org/fhir/SearchParameter/Patient-identifier',
    documentation: 'https://fhir.nhs.uk/Id/nhs-number|{NHS number}; on its own.',
  },
  {
    name: 'family',
    type: 'string',
    definition: 'http://hl7.org/fhir/SearchParameter/individual-family',
    documentation: 'With birthdate (IHE PDQm). Each part begins a family name (former names too).',
  },
  {
    name: 'given',
    type: 'string',
    definition: 'http://hl7.org/fhir/SearchParameter/individual-given',
    documentation: 'With family and birthdate.',
  },
  {
    name: 'birthdate',
    type: 'date',
    definition: 'http://hl7.org/fhir/SearchParameter/individual-birthdate',
    documentation: 'A full date (YYYY-MM-DD, eq only), with family or with address-postalcode.',
  },
  {
    name: 'address-postalcode',
    type: 'string',
    definition: 'http://hl7.org/fhir/SearchParameter/individual-address-postalcode',
    documentation: 'With birthdate. The postcode or its beginning, spaces ignored.',
  },
];

const VREAD_NOTE =
  'vread serves earlier versions too, each classified by the privacy policy on its own content, for an item the reader may see now.';

function clinicalResource(type: string): CapabilityStatementRestResource {
  const includes = includesOf(type).map((i) => `${type}:${i.name}`);
  return {
    type: type as ResourceType,
    documentation: `Read-only; governed and audited. ${VREAD_NOTE}${
      includes.length
        ? ' _include brings in the Organizations an item names by ODS code, and the Practitioners and Medications its source sent with it (classified by the same privacy policy as the item; a MedicationRequest or MedicationStatement whose Medication is included carries medicationReference instead of medicationCodeableConcept).'
        : ''
    }`,
    interaction: [{ code: 'read' }, { code: 'vread' }, { code: 'search-type' }],
    versioning: 'versioned',
    readHistory: false,
    conditionalRead: 'not-match',
    ...(includes.length ? { searchInclude: includes } : {}),
    searchParam: searchParamsOf(type).map(asSearchParam),
  };
}

export function capabilityStatement(publicUrl = ''): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-05',
    kind: 'instance',
    software: { name: 'Sharedcare', version: '0.1.0' },
    implementation: {
      description: 'Sharedcare shared care record: FHIR R4 read API',
      ...(publicUrl ? { url: `${publicUrl}/fhir` } : {}),
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Read-only shared care record. Every read is governed (access, privacy policy) and audited. ' +
          'JSON only: _format=xml or Accept: application/fhir+xml answers 406. Unknown parameters are ignored ' +
          'and reported in an OperationOutcome entry, or refused (400) with Prefer: handling=strict. ' +
          'Searches page with _count (at most 1000) and _offset (the next link carries it); _sort takes date ' +
          'and _lastUpdated (a leading "-" for newest first). Responses are gzipped when asked.',
        security: {
          description: 'Bearer tokens (JWT) from issuers this region trusts; SMART on FHIR launch.',
        },
        resource: [
          {
            type: 'Patient',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: PATIENT_SEARCH,
            operation: [
              {
                name: 'everything',
                definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
                documentation: 'Parameters _since, _type, _count (with _offset paging).',
              },
              {
                name: 'summary',
                definition: 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary',
                documentation: 'An International Patient Summary shaped document Bundle.',
              },
              {
                name: 'break-glass',
                definition: 'https://sharedcare.dev/fhir/OperationDefinition/break-glass',
                documentation: 'POST: emergency access with a stated reason; time-limited and reviewed.',
              },
              RECONCILED_OPERATION,
            ],
          },
          ...Object.keys(CLINICAL_TYPES).map(clinicalResource),
          {
            type: 'Consent',
            documentation: "The person's objections to sharing (never the data they cover).",
            interaction: [{ code: 'search-type' }],
            searchParam: [{ name: 'patient', type: 'reference', documentation: 'Required: the Patient id.' }],
          },
          {
            type: 'Organization',
            documentation: 'The region organisations, by ODS code (what _include brings in).',
            interaction: [{ code: 'read' }],
          },
        ],
      },
    ],
  };
}
