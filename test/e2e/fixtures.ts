/**
 * The people of the viewer's end-to-end tests, as each source sends them (FHIR R4): the main
 * person is in main-person.ts; these are for break glass, objections, a restricted person and a
 * heavy record, with the helpers they share.
 */
import type { Resource } from '@medplum/fhirtypes';
import { patient } from '../fhir-data.ts';

const SCT = 'http://snomed.info/sct';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const DAY = 86_400_000;

/** A valid NHS number (modulus 11) starting with these nine digits, or the next that has one. */
export function nhsNumber(first9: number): string {
  for (let n = first9; ; n++) {
    const d = String(n).padStart(9, '0').split('').map(Number);
    const r = 11 - (d.reduce((s, x, i) => s + x * (10 - i), 0) % 11);
    if (r === 10) continue;
    return `${d.join('')}${r === 11 ? 0 : r}`;
  }
}

export const NHS = {
  main: nhsNumber(999_100_001),
  noRelationship: nhsNumber(999_100_101),
  objected: nhsNumber(999_100_201),
  partlyObjected: nhsNumber(999_100_301),
  restricted: nhsNumber(999_100_401),
  heavy: nhsNumber(999_100_501),
};

export const org = (ods: string, display: string) => ({ identifier: { system: ODS, value: ods }, display });
export const GP = org('Y90001', 'Riverside Surgery');
export const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
export const cc = (code: string, display: string) => ({
  coding: [{ system: SCT, code, display }],
  text: display,
});
export const clinical = (code: string) => ({
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }],
});
export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export function hba1c(id: string, p: string, value: number, date: string): Resource {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
        ],
      },
    ],
    code: { coding: [{ system: SCT, code: '1049301000000100', display: 'HbA1c level' }], text: 'HbA1c' },
    subject: { reference: p },
    effectiveDateTime: date,
    valueQuantity: { value, unit: 'mmol/mol', system: 'http://unitsofmeasure.org', code: 'mmol/mol' },
    referenceRange: [{ low: { value: 20 }, high: { value: 41 } }],
  } as Resource;
}

export const demographics = {
  name: [{ use: 'official', family: 'Testperson', given: ['Alex', 'Jordan'], prefix: ['Ms'] }],
  telecom: [{ system: 'phone', value: '0113 496 0000', use: 'home' }],
  address: [{ use: 'home', line: ['1 Test Street'], city: 'Northdale', postalCode: 'ND1 1AA' }],
  birthDate: '1958-03-14',
  gender: 'female',
  generalPractitioner: [GP],
};

/** A person the GP practice has no relationship with: only an old hospital record. */
export function noRelationshipPerson(): Record<string, Resource[]> {
  const p = 'Patient/n-1';
  return {
    'northgate-pas': [
      patient('n-1', NHS.noRelationship, { name: [{ family: 'Stranger', given: ['Sam'] }] }),
      {
        resourceType: 'Condition',
        id: 'n-c',
        clinicalStatus: clinical('active'),
        code: cc('195967001', 'Asthma'),
        subject: { reference: p },
        onsetDateTime: '2009-01-01',
      },
    ] as Resource[],
  };
}

/** A registered patient with a little GP data (for objections and restriction). */
export function gpPerson(
  local: string,
  nhs: string,
  extra: Record<string, unknown> = {},
): Record<string, Resource[]> {
  const p = `Patient/${local}`;
  return {
    'gp-riverside': [
      patient(local, nhs, {
        ...demographics,
        name: [{ family: local.toUpperCase(), given: ['Pat'] }],
        ...extra,
      }),
      {
        resourceType: 'Condition',
        id: `${local}-c`,
        clinicalStatus: clinical('active'),
        code: cc('38341003', 'Hypertension'),
        subject: { reference: p },
        onsetDateTime: '2020-01-01',
      },
    ] as Resource[],
    'northgate-pas': [
      patient(`${local}-h`, nhs, { ...demographics, ...extra }),
      {
        resourceType: 'Condition',
        id: `${local}-hc`,
        clinicalStatus: clinical('resolved'),
        code: cc('125605004', 'Fracture of bone'),
        subject: { reference: `Patient/${local}-h` },
        onsetDateTime: '2022-01-01',
      },
    ] as Resource[],
  };
}

/** A heavy record: thousands of results and contacts from the GP practice. */
export function heavyPerson(results = 3000, contacts = 600): Record<string, Resource[]> {
  const p = 'Patient/hv-1';
  const out: Resource[] = [patient('hv-1', NHS.heavy, demographics)];
  for (let i = 0; i < results; i++)
    out.push(
      hba1c(`hv-o${i}`, p, 40 + (i % 15), new Date(Date.UTC(2010, 0, 1) + i * 1.3 * DAY).toISOString()),
    );
  for (let i = 0; i < contacts; i++)
    out.push({
      resourceType: 'Encounter',
      id: `hv-e${i}`,
      status: 'finished',
      class: { code: 'AMB' },
      type: [cc('11429006', 'Consultation')],
      subject: { reference: p },
      period: { start: new Date(Date.UTC(2010, 0, 1) + i * 6 * DAY).toISOString() },
    } as Resource);
  return { 'gp-riverside': out };
}
