/** Small inputs for the pipeline stages' own tests. */
import type { Resource } from '@medplum/fhirtypes';
import type { SourceSystem } from '../../region/index.ts';
import type { Entry } from '../parse.ts';
import { RequestIndex } from '../references.ts';
import { pendingResults } from './results.ts';
import type { IntakeRun } from './types.ts';

export const SOURCE: SourceSystem = {
  id: 'pas-test',
  org: 'RX1',
  orgName: 'Northdale General Hospital',
  orgKind: 'acute',
  kind: 'fhir',
  name: null,
  lastReceivedAt: null,
};

export const NHS = '9990000018';

export function patient(id: string, birthDate = '1970-01-01'): Resource {
  return {
    resourceType: 'Patient',
    id,
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS }],
    name: [{ family: 'Testperson', given: ['Alex'] }],
    birthDate,
  } as Resource;
}

export function condition(id: string, patientRef: string, code = '38341003'): Resource {
  return {
    resourceType: 'Condition',
    id,
    code: { coding: [{ system: 'http://snomed.info/sct', code }] },
    subject: { reference: patientRef },
    recordedDate: '2024-01-02',
  } as Resource;
}

export function entries(...resources: Resource[]): Entry[] {
  return resources.map((resource, i) => ({ at: `Bundle.entry[${i}]`, resource, method: 'PUT' as const }));
}

export function runOf(list: Entry[], source = SOURCE): IntakeRun {
  return {
    source,
    entries: list,
    index: new RequestIndex(list),
    receivedAt: '2026-01-01T00:00:00.000Z',
    results: pendingResults(list),
    personByLocal: new Map(),
  };
}
