/** Small hand-made items for the reconciliation tests (a GP practice, a hospital, a lab). */
import type { Resource } from '@medplum/fhirtypes';
import type { SourceItem } from './fields.ts';

export const GP = { org: 'Y90001', name: 'Riverside Surgery', system: 'gp-riverside' };
export const HOSPITAL = { org: 'RX1', name: 'Northgate Hospital', system: 'northgate-pas' };
export const LAB = { org: 'LAB01', name: 'Private Lab', system: 'private-lab' };
export type Source = typeof GP;

export const SNOMED = 'http://snomed.info/sct';
export const DMD = 'https://dmd.nhs.uk';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

let seq = 0;
export function item(
  source: Source,
  resource: Record<string, unknown> & { resourceType: string },
  person = 'person-a',
): SourceItem {
  const id = (resource.id as string | undefined) ?? `item-${++seq}`;
  return {
    id,
    resourceType: resource.resourceType,
    person,
    resource: { ...resource, id } as Resource,
    sourceOrg: source.org,
    sourceOrgName: source.name,
    sourceSystem: source.system,
    received: '2026-12-01T09:00:00.000Z',
  };
}

export const concept = (system: string, code: string, display: string) => ({
  coding: [{ system, code, display }],
});
export const orgRef = (s: Source) => ({ identifier: { system: ODS, value: s.org }, display: s.name });

export const allergy = (code: string, display: string, verification = 'confirmed', extra = {}) => ({
  resourceType: 'AllergyIntolerance',
  code: concept(SNOMED, code, display),
  verificationStatus: {
    coding: [
      { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: verification },
    ],
  },
  ...extra,
});

export const medication = (type: string, code: string, display: string, dose: string, extra = {}) => ({
  resourceType: type,
  medicationCodeableConcept: concept(DMD, code, display),
  [type === 'MedicationRequest' ? 'dosageInstruction' : 'dosage']: [{ text: dose }],
  ...extra,
});

export const letter = (author: Source, date: string, title: string, extra = {}) => ({
  resourceType: 'DocumentReference',
  status: 'current',
  type: concept(SNOMED, '823691000000103', 'Clinic letter'),
  date,
  author: [orgRef(author)],
  description: title,
  ...extra,
});
