/**
 * One person's record from a GP practice and a hospital, with an item of every searchable type,
 * for the FHIR API's table-driven tests: each item has a local id (its source id) that the tables
 * name, dates on both sides of the boundaries the tables test, and references to organisations.
 */
import type { Resource } from '@medplum/fhirtypes';
import { bundle, HIV, patient } from './fhir-data.ts';

export const NHS = '9990000026';
const SCT = 'http://snomed.info/sct';
const LAB = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }],
};
const VITALS = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
};
const clinical = (system: string, code: string) => ({ coding: [{ system, code }] });
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const PROBLEM = clinical('http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item');
const DIAGNOSIS = clinical('http://terminology.hl7.org/CodeSystem/condition-category', 'encounter-diagnosis');
const cc = (code: string, display: string) => ({ coding: [{ system: SCT, code, display }], text: display });
const ods = (code: string) => ({
  resourceType: 'Organization',
  id: `org-${code}`,
  identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: code }],
  name: code === 'RX1' ? 'Northgate Hospital' : 'Riverside Surgery',
});

const P = 'Patient/p1';

export function gpRecord(): ReturnType<typeof bundle> {
  const r: Record<string, unknown>[] = [
    ods('Y90001'),
    { resourceType: 'Medication', id: 'med-amlo', code: cc('108537001', 'Amlodipine') },
    // an antiretroviral (ATC J05AR03): the prescription that names it is never shared, nor is it
    {
      resourceType: 'Medication',
      id: 'med-arv',
      code: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J05AR03' }], text: 'Truvada' },
    },
    {
      resourceType: 'MedicationRequest',
      id: 'mr-arv',
      status: 'active',
      intent: 'order',
      medicationReference: { reference: 'Medication/med-arv' },
      subject: { reference: P },
      authoredOn: '2022-05-05',
    },
    {
      resourceType: 'Condition',
      id: 'c-htn',
      clinicalStatus: clinical(CONDITION_CLINICAL, 'active'),
      category: [PROBLEM],
      code: cc('38341003', 'Hypertensive disorder'),
      subject: { reference: P },
      onsetDateTime: '2021-03-04',
      asserter: { reference: 'Organization/org-Y90001' },
    },
    {
      resourceType: 'Condition',
      id: 'c-asthma',
      clinicalStatus: clinical(CONDITION_CLINICAL, 'resolved'),
      category: [PROBLEM],
      code: cc('195967001', 'Asthma'),
      subject: { reference: P },
      onsetDateTime: '2019-06-01',
    },
    {
      resourceType: 'Condition',
      id: 'c-hiv',
      clinicalStatus: clinical(CONDITION_CLINICAL, 'active'),
      category: [PROBLEM],
      code: { coding: [HIV] },
      subject: { reference: P },
      onsetDateTime: '2021-03-05',
    },
    {
      resourceType: 'Observation',
      id: 'o-hba1c-1',
      status: 'final',
      category: [LAB],
      code: cc('1049301000000100', 'HbA1c level'),
      subject: { reference: P },
      effectiveDateTime: '2022-04-15T09:30:00Z',
    },
    {
      resourceType: 'Observation',
      id: 'o-hba1c-2',
      status: 'final',
      category: [LAB],
      code: cc('1049301000000100', 'HbA1c level'),
      subject: { reference: P },
      effectiveDateTime: '2023-01-10T10:00:00Z',
    },
    {
      resourceType: 'Observation',
      id: 'o-bp',
      status: 'preliminary',
      category: [VITALS],
      code: cc('75367002', 'Blood pressure'),
      subject: { reference: P },
      effectiveDateTime: '2023-06-01T08:00:00Z',
    },
    {
      resourceType: 'AllergyIntolerance',
      id: 'a-pen',
      clinicalStatus: clinical('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active'),
      category: ['medication'],
      code: cc('91936005', 'Penicillin allergy'),
      patient: { reference: P },
      recordedDate: '2020-01-01',
    },
    {
      resourceType: 'MedicationStatement',
      id: 'ms-aspirin',
      status: 'active',
      medicationCodeableConcept: cc('387458008', 'Aspirin'),
      subject: { reference: P },
      effectiveDateTime: '2022-02-02',
    },
    {
      resourceType: 'MedicationRequest',
      id: 'mr-amlo',
      status: 'active',
      intent: 'order',
      medicationReference: { reference: 'Medication/med-amlo' },
      subject: { reference: P },
      authoredOn: '2022-03-03',
      requester: { reference: 'Organization/org-Y90001' },
    },
    {
      resourceType: 'MedicationRequest',
      id: 'mr-old',
      status: 'stopped',
      intent: 'order',
      medicationCodeableConcept: cc('318420003', 'Atenolol'),
      subject: { reference: P },
      authoredOn: '2018-03-03',
    },
    {
      resourceType: 'Immunization',
      id: 'i-flu',
      status: 'completed',
      vaccineCode: cc('1181000221105', 'Influenza vaccine'),
      patient: { reference: P },
      occurrenceDateTime: '2020-10-01',
    },
    {
      resourceType: 'Procedure',
      id: 'pr-1',
      status: 'completed',
      code: cc('80146002', 'Appendicectomy'),
      subject: { reference: P },
      performedDateTime: '2021-05-05',
    },
    {
      resourceType: 'CarePlan',
      id: 'cp-1',
      status: 'active',
      intent: 'plan',
      category: [cc('736353004', 'Diabetes care plan')],
      subject: { reference: P },
      period: { start: '2022-01-01' },
    },
  ];
  return bundle('batch', [patient('p1', NHS), ...(r as unknown as Resource[])]);
}

export function hospitalRecord(): ReturnType<typeof bundle> {
  const r: Record<string, unknown>[] = [
    ods('RX1'),
    {
      resourceType: 'Practitioner',
      id: 'pract-1',
      identifier: [{ system: 'https://fhir.hl7.org.uk/Id/gmc-number', value: 'C1234567' }],
      name: [{ family: 'Okafor', given: ['Ada'], prefix: ['Dr'] }],
    },
    {
      resourceType: 'Encounter',
      id: 'e-1',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      type: [cc('185347001', 'Outpatient encounter')],
      subject: { reference: P },
      participant: [{ individual: { reference: 'Practitioner/pract-1' } }],
      period: { start: '2023-01-10T09:00:00Z', end: '2023-01-10T10:00:00Z' },
      serviceProvider: { reference: 'Organization/org-RX1' },
    },
    {
      resourceType: 'DiagnosticReport',
      id: 'dr-1',
      status: 'final',
      category: [LAB],
      code: cc('26604007', 'Full blood count'),
      subject: { reference: P },
      effectiveDateTime: '2023-01-10T11:00:00Z',
      performer: [{ reference: 'Organization/org-RX1' }, { reference: 'Practitioner/pract-1' }],
    },
    {
      resourceType: 'Appointment',
      id: 'ap-1',
      status: 'booked',
      serviceType: [cc('394586005', 'Gynaecology')],
      start: '2024-02-01T09:00:00Z',
      end: '2024-02-01T09:30:00Z',
      participant: [{ actor: { reference: P }, status: 'accepted' }],
    },
    {
      resourceType: 'DocumentReference',
      id: 'd-1',
      status: 'current',
      type: cc('371531000', 'Report of clinical encounter'),
      category: [cc('734163000', 'Care plan')],
      subject: { reference: P },
      date: '2023-02-01T12:00:00Z',
      custodian: { reference: 'Organization/org-RX1' },
      content: [{ attachment: { contentType: 'text/plain', data: 'SGVsbG8=' } }],
    },
    {
      resourceType: 'ServiceRequest',
      id: 'sr-1',
      status: 'active',
      intent: 'order',
      category: [cc('3457005', 'Patient referral')],
      code: cc('183519002', 'Referral to cardiology service'),
      subject: { reference: P },
      authoredOn: '2022-12-01',
    },
    {
      resourceType: 'Condition',
      id: 'c-cough',
      clinicalStatus: clinical(CONDITION_CLINICAL, 'active'),
      category: [DIAGNOSIS],
      code: cc('49727002', 'Cough'),
      subject: { reference: P },
      onsetDateTime: '2023-01-10',
    },
  ];
  return bundle('batch', [
    patient('h1', NHS),
    ...(r as unknown as Resource[]).map(
      (x) => JSON.parse(JSON.stringify(x).replaceAll('"Patient/p1"', '"Patient/h1"')) as Resource,
    ),
  ]);
}
