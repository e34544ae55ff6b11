/**
 * The main person of the viewer's end-to-end tests: something in every section, from every kind
 * of organisation, including the same facts from two sources (some agreeing, some in conflict), a
 * PDF discharge summary and a 111 report.
 */
import type { Resource } from '@medplum/fhirtypes';
import { renderPdf } from '../../src/generate/letters.ts';
import { patient } from '../fhir-data.ts';
import { b64, cc, clinical, DAY, demographics, GP, hba1c, iso, NHS, org } from './fixtures.ts';

/** Everything each source sends for the main person, by source id. */
export function mainPerson(): Record<string, Resource[]> {
  const p = 'Patient/m-1';
  const pt = (extra: Record<string, unknown> = {}) => patient('m-1', NHS.main, { ...demographics, ...extra });
  const letter = renderPdf(
    'Northgate Hospital\nDISCHARGE SUMMARY\nAdmitted with community-acquired pneumonia.\nTreated with IV antibiotics.\nGP actions: repeat chest X-ray in six weeks.',
  );
  const dischargeLetter = {
    attachment: {
      contentType: 'application/pdf',
      data: Buffer.from(letter, 'latin1').toString('base64'),
      title: 'Discharge summary.pdf',
    },
  };
  return {
    'gp-riverside': [
      // the practice's own record names the usual GP, a Practitioner it sends with it
      pt({ generalPractitioner: [GP, { reference: 'Practitioner/gp-shah', display: 'Dr Priya Shah' }] }),
      {
        resourceType: 'Practitioner',
        id: 'gp-shah',
        identifier: [{ system: 'https://fhir.hl7.org.uk/Id/gmp-number', value: 'G8133438' }],
        name: [{ family: 'Shah', given: ['Priya'], prefix: ['Dr'] }],
      },
      {
        resourceType: 'Condition',
        id: 'm-htn',
        clinicalStatus: clinical('active'),
        code: cc('38341003', 'Hypertension'),
        subject: { reference: p },
        onsetDateTime: '2015-06-01',
      },
      {
        resourceType: 'Condition',
        id: 'm-dm',
        clinicalStatus: clinical('active'),
        code: cc('44054006', 'Type 2 diabetes mellitus'),
        subject: { reference: p },
        onsetDateTime: '2018-02-10',
      },
      {
        resourceType: 'MedicationStatement',
        id: 'm-met',
        status: 'active',
        medicationCodeableConcept: cc('325278007', 'Metformin 500mg tablets'),
        subject: { reference: p },
        effectiveDateTime: '2018-02-10',
        dosage: [{ text: 'One tablet twice a day' }],
      },
      {
        resourceType: 'MedicationRequest',
        id: 'm-met-1',
        status: 'completed',
        intent: 'order',
        medicationCodeableConcept: cc('325278007', 'Metformin 500mg tablets'),
        subject: { reference: p },
        authoredOn: iso(-20 * DAY),
        dosageInstruction: [{ text: 'One tablet twice a day' }],
      },
      {
        resourceType: 'MedicationStatement',
        id: 'm-ram',
        status: 'active',
        medicationCodeableConcept: cc('318900003', 'Ramipril 5mg capsules'),
        subject: { reference: p },
        effectiveDateTime: '2015-06-01',
        dosage: [{ text: 'One capsule once a day' }],
      },
      {
        resourceType: 'MedicationRequest',
        id: 'm-amox',
        status: 'completed',
        intent: 'order',
        medicationCodeableConcept: cc('323509004', 'Amoxicillin 500mg capsules'),
        subject: { reference: p },
        authoredOn: '2019-11-02',
        dosageInstruction: [{ text: 'One capsule three times a day for 5 days' }],
      },
      {
        resourceType: 'AllergyIntolerance',
        id: 'm-pen',
        clinicalStatus: { coding: [{ code: 'active' }] },
        code: cc('764146007', 'Penicillin'),
        patient: { reference: p },
        criticality: 'low',
        recordedDate: '2010-05-05',
        reaction: [{ manifestation: [cc('271807003', 'Rash')] }],
      },
      {
        resourceType: 'AllergyIntolerance',
        id: 'm-ibu',
        clinicalStatus: { coding: [{ code: 'active' }] },
        verificationStatus: { coding: [{ code: 'confirmed' }] },
        code: cc('387207008', 'Ibuprofen'),
        patient: { reference: p },
        recordedDate: '2012-09-01',
        reaction: [{ manifestation: [cc('267036007', 'Dyspnoea')] }],
      },
      // the GP's copy of the hospital's discharge summary: the same letter, held by both
      {
        resourceType: 'DocumentReference',
        id: 'm-dis-copy',
        status: 'current',
        docStatus: 'final',
        type: cc('373942005', 'Discharge summary'),
        subject: { reference: p },
        date: '2024-06-05T16:00:00Z',
        author: [org('RX1', 'Northgate Hospital')],
        description: 'Inpatient discharge summary',
        content: [dischargeLetter],
      },
      hba1c('m-a1c-1', p, 48, '2022-04-15T09:30:00Z'),
      hba1c('m-a1c-2', p, 53, '2023-01-10T09:30:00Z'),
      hba1c('m-a1c-3', p, 50, '2024-02-01T09:30:00Z'),
      {
        resourceType: 'Immunization',
        id: 'm-flu',
        status: 'completed',
        vaccineCode: cc('1181000221105', 'Influenza vaccine'),
        patient: { reference: p },
        occurrenceDateTime: '2025-10-01',
      },
      {
        resourceType: 'Encounter',
        id: 'm-enc-gp',
        status: 'finished',
        class: { code: 'AMB', display: 'ambulatory' },
        type: [cc('11429006', 'Consultation')],
        subject: { reference: p },
        period: { start: '2025-03-05T10:00:00Z' },
        serviceProvider: GP,
      },
      {
        resourceType: 'Appointment',
        id: 'm-appt',
        status: 'booked',
        description: 'Diabetes review',
        start: iso(14 * DAY),
        end: iso(14 * DAY + 900_000),
        participant: [
          { actor: { reference: p }, status: 'accepted' },
          { actor: { display: 'Nurse K Bell' }, status: 'accepted' },
        ],
      },
      {
        resourceType: 'ServiceRequest',
        id: 'm-ref',
        status: 'active',
        intent: 'order',
        code: { text: 'Referral to Cardiology clinic' },
        subject: { reference: p },
        authoredOn: '2025-01-10',
        requester: GP,
        performer: [org('RX1', 'Northgate Hospital')],
      },
      {
        resourceType: 'DocumentReference',
        id: 'm-ref-letter',
        status: 'current',
        type: cc('3457005', 'Patient referral'),
        subject: { reference: p },
        date: '2025-01-10T12:00:00Z',
        description: 'Referral to Cardiology',
        content: [
          {
            attachment: {
              contentType: 'text/plain',
              data: b64(
                'Dear colleague, please see this patient in Cardiology clinic.\nPalpitations for three months.',
              ),
            },
          },
        ],
      },
    ] as Resource[],
    'northgate-pas': [
      pt(),
      {
        resourceType: 'Condition',
        id: 'h-htn',
        clinicalStatus: clinical('resolved'),
        code: cc('38341003', 'Hypertension'),
        subject: { reference: p },
        onsetDateTime: '2024-06-01',
      },
      {
        resourceType: 'AllergyIntolerance',
        id: 'h-pen',
        clinicalStatus: { coding: [{ code: 'active' }] },
        code: cc('764146007', 'Penicillin'),
        patient: { reference: p },
        criticality: 'high',
        recordedDate: '2024-06-01',
        reaction: [{ manifestation: [cc('39579001', 'Anaphylaxis')] }],
      },
      {
        resourceType: 'MedicationStatement',
        id: 'h-ram',
        status: 'active',
        medicationCodeableConcept: cc('318900003', 'Ramipril 5mg capsules'),
        subject: { reference: p },
        effectiveDateTime: '2024-06-05',
        dosage: [{ text: 'Two capsules once a day' }],
      },
      // a drug challenge on the ward: not an ibuprofen allergy after all (the GP's record says it is)
      {
        resourceType: 'AllergyIntolerance',
        id: 'h-ibu',
        verificationStatus: { coding: [{ code: 'refuted' }] },
        code: cc('387207008', 'Ibuprofen'),
        patient: { reference: p },
        recordedDate: '2024-06-03',
        note: [{ text: 'Oral challenge tolerated: not allergic.' }],
      },
      hba1c('h-a1c-1', p, 48, '2022-04-15T09:30:00Z'),
      hba1c('h-a1c-4', p, 46, '2025-03-01T09:30:00Z'),
      {
        resourceType: 'Encounter',
        id: 'h-adm',
        status: 'finished',
        class: { code: 'IMP', display: 'inpatient encounter' },
        type: [cc('32485007', 'Hospital admission')],
        reasonCode: [cc('385093006', 'Community acquired pneumonia')],
        subject: { reference: p },
        period: { start: '2024-06-01T14:00:00Z', end: '2024-06-05T11:00:00Z' },
        serviceProvider: org('RX1', 'Northgate Hospital'),
      },
      {
        resourceType: 'DocumentReference',
        id: 'h-dis',
        status: 'current',
        docStatus: 'final',
        type: cc('373942005', 'Discharge summary'),
        subject: { reference: p },
        date: '2024-06-05T16:00:00Z',
        description: 'Inpatient discharge summary',
        content: [dischargeLetter],
      },
    ] as Resource[],
    'community-rx2': [
      pt(),
      {
        resourceType: 'EpisodeOfCare',
        id: 'c-ep',
        status: 'active',
        type: [cc('722162001', 'Psychology service')],
        patient: { reference: p },
        period: { start: '2025-02-01' },
        managingOrganization: org('RX2', 'Northdale Community and Mental Health Trust'),
      },
      {
        resourceType: 'Condition',
        id: 'c-dep',
        clinicalStatus: clinical('active'),
        code: cc('35489007', 'Depressive disorder'),
        subject: { reference: p },
        onsetDateTime: '2025-02-01',
      },
      {
        resourceType: 'CarePlan',
        id: 'c-plan',
        status: 'active',
        intent: 'plan',
        title: 'Community Mental Health Team care plan',
        description: 'Fortnightly contact; review in three months.',
        subject: { reference: p },
        period: { start: '2025-02-01' },
      },
    ] as Resource[],
    'social-care-la901': [
      pt(),
      {
        resourceType: 'EpisodeOfCare',
        id: 's-case',
        status: 'active',
        type: [{ text: 'Adult social care' }],
        patient: { reference: p },
        period: { start: '2024-07-01' },
        managingOrganization: org('LA901', 'Northdale Council Adult Social Care'),
      },
      {
        resourceType: 'CarePlan',
        id: 's-pkg',
        status: 'active',
        intent: 'plan',
        category: [{ text: 'Care package' }],
        title: 'Home care',
        description: 'Home care: two calls a day for personal care',
        subject: { reference: p },
        period: { start: '2024-07-10' },
      },
    ] as Resource[],
    'ooh-nx1': [
      pt(),
      {
        resourceType: 'Encounter',
        id: 'o-111',
        status: 'finished',
        class: { code: 'VR', display: 'virtual' },
        type: [{ text: 'NHS 111 telephone triage' }],
        reasonCode: [cc('29857009', 'Chest pain')],
        subject: { reference: p },
        period: { start: '2025-04-20T02:10:00Z', end: '2025-04-20T02:40:00Z' },
      },
      {
        resourceType: 'Composition',
        id: 'o-rep',
        status: 'final',
        type: cc('371531000', 'Report of clinical encounter'),
        subject: { reference: p },
        date: '2025-04-20T02:40:00Z',
        author: [org('NX1', 'Northdale 111')],
        title: 'NHS 111 call report',
        section: [
          {
            title: 'Presenting complaint',
            text: {
              status: 'generated',
              div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Chest pain</p></div>',
            },
          },
          {
            title: 'Disposition',
            text: {
              status: 'generated',
              div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Advised to contact own GP practice within 24 hours</p></div>',
            },
          },
        ],
      },
    ] as Resource[],
  };
}
