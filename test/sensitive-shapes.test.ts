/**
 * Issue 12, first paragraph: seven shapes that real feeds carry, each shown to clinicians with the
 * shipped configuration before the never-shared rule was made complete. Each must be withheld from
 * every reader (in $everything, in section searches and by id), with the shipped lists only, and
 * the audit event must say why (withheld-sensitive / withheld-pending-review), never the category.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { everything, getAs, personIdFor, postFhir } from './http.ts';

const P = 'Patient/shp';
const NHS = '9990000093';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The seven shapes, by local id; every one must be withheld. */
const SHAPES: Resource[] = [
  {
    // a dm+d-coded antiretroviral: the product code is on no list, its name gives it away
    resourceType: 'MedicationRequest',
    id: 'biktarvy',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: {
      coding: [
        {
          system: 'https://dmd.nhs.uk',
          code: '40000000000001',
          display: 'Biktarvy 50mg/200mg/25mg tablets (Gilead Sciences Ltd)',
        },
      ],
    },
    subject: { reference: P },
    authoredOn: '2024-03-01',
  },
  {
    resourceType: 'Observation',
    id: 'viral-load',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '20447-9' }] },
    subject: { reference: P },
    effectiveDateTime: '2024-03-02',
    valueQuantity: { value: 40, unit: 'copies/mL' },
  },
  {
    // a GUM clinic attendance, known by its NHS treatment function code
    resourceType: 'Encounter',
    id: 'gum-visit',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    serviceType: {
      coding: [
        {
          system: 'https://fhir.nhs.uk/CodeSystem/NHSDataModelAndDictionary-treatment-function',
          code: '360',
        },
      ],
    },
    subject: { reference: P },
    period: { start: '2024-03-03T10:00:00Z' },
  },
  {
    resourceType: 'DocumentReference',
    id: 'top-letter',
    status: 'current',
    type: { text: 'Clinic letter' },
    description: 'Letter from the pregnancy advisory service',
    subject: { reference: P },
    date: '2024-03-04T09:00:00Z',
    content: [
      {
        attachment: {
          contentType: 'text/plain',
          title: 'Clinic letter',
          data: b64(
            'Dear Dr Smith, your patient attended today and underwent a surgical termination of pregnancy ' +
              'at 9 weeks. She recovered well and was discharged home.',
          ),
        },
      },
    ],
  },
  {
    resourceType: 'Condition',
    id: 'ctv3-hiv',
    code: { coding: [{ system: 'http://read.info/ctv3', code: 'A788.' }] },
    subject: { reference: P },
    recordedDate: '2024-03-05',
  },
  {
    resourceType: 'Procedure',
    id: 'iui',
    status: 'completed',
    code: {
      coding: [
        {
          system: 'http://snomed.info/sct',
          code: '426250000',
          display: 'Intrauterine insemination using donor sperm',
        },
      ],
    },
    subject: { reference: P },
    performedDateTime: '2024-03-05',
  },
  {
    resourceType: 'Condition',
    id: 'text-only',
    code: { text: 'HIV positive' },
    subject: { reference: P },
    recordedDate: '2024-03-06',
  },
];

describe.each(DB_KINDS)('the seven shapes of issue 12 on %s (shipped configuration)', (kind) => {
  let r: TestRegion;
  let personId: string;

  beforeAll(async () => {
    r = await startRegion(kind);
    const res = await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('shp', NHS), condition('htn', P, HYPERTENSION), ...SHAPES]),
    );
    expect(res.status, res.text).toBe(200);
    personId = await personIdFor(r, NHS);
  });
  afterAll(async () => r?.drop());

  it('shows only the ordinary item in the record', async () => {
    const { items } = await everything(r, personId);
    expect(items.map((i) => `${i.resourceType}/${JSON.stringify(i).includes('38341003')}`)).toEqual([
      'Condition/true',
    ]);
  });

  it.each(['MedicationRequest', 'Observation', 'Encounter', 'DocumentReference', 'Condition', 'Procedure'])(
    'withholds %s from a section search',
    async (type) => {
      const token = await r.userToken('dr.search', 'Y90001');
      const res = await getAs<{ entry?: { resource: Resource }[] }>(
        r,
        token,
        `/fhir/${type}?patient=${personId}`,
      );
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body.entry ?? []);
      for (const word of [
        'Biktarvy',
        'pregnancy advisory',
        '20447-9',
        '"360"',
        'termination',
        'A788.',
        '426250000',
        'HIV positive',
      ])
        expect(text).not.toContain(word);
    },
  );

  it('answers 404 for the letter read by id, as for an id that never existed', async () => {
    const stored = await r.db.query<{ id: string }>(
      `SELECT id FROM clinical_item WHERE resource_type = 'DocumentReference' AND source_local_id = 'top-letter'`,
    );
    const token = await r.userToken('dr.letter', 'Y90001');
    const res = await getAs(r, token, `/fhir/DocumentReference/${stored.rows[0]!.id}`);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('termination');
  });

  it('says why in the audit event, never the category', async () => {
    await everything(r, personId);
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE action = 'record.open' AND person_id = $1 ORDER BY seq DESC LIMIT 1`,
      [personId],
    );
    const { reasons } = JSON.parse(rows[0]!.event) as { reasons: string[] };
    expect(reasons).toEqual(expect.arrayContaining(['withheld-sensitive', 'withheld-pending-review']));
    expect(rows[0]!.event).not.toMatch(/hiv|fertil|termination|sexual|gender/i);
  });
});
