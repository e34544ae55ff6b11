/**
 * `_include` of Medications is classified like the items: a prescription that names a stored
 * antiretroviral Medication sent in an earlier request is withheld at intake (the drug's code is
 * carried on the item, as when it comes in the same Bundle), and a Medication that its source
 * later re-sends with a never-shared code is no longer included, even for a prescription that was
 * stored before and is still served.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { getAs, personIdFor, postFhir } from './http.ts';
import { bundle, patient } from './fhir-data.ts';

const NHS = '9990000026';
const ATC = 'http://www.whocc.no/atc';
const P = { reference: 'Patient/p1' };

const medication = (id: string, system: string, code: string, text: string) =>
  ({ resourceType: 'Medication', id, code: { coding: [{ system, code }], text } }) as Resource;
const request = (id: string, med: string) =>
  ({
    resourceType: 'MedicationRequest',
    id,
    status: 'active',
    intent: 'order',
    medicationReference: { reference: `Medication/${med}` },
    subject: P,
    authoredOn: '2024-01-01',
  }) as Resource;

describe.each(DB_KINDS)('_include of Medications and the privacy policy on %s', (kind) => {
  let r: TestRegion;
  let id: string;
  let gp: string;

  beforeAll(async () => {
    r = await startRegion(kind);
    const first = bundle('batch', [
      patient('p1', NHS),
      medication('med-arv', ATC, 'J05AR03', 'Truvada'),
      medication('med-x', 'http://snomed.info/sct', '108537001', 'Amlodipine'),
      request('mr-x', 'med-x'),
    ]);
    expect((await postFhir(r, 'gp-riverside', first)).status).toBe(200);
    id = await personIdFor(r, NHS);
    gp = await r.userToken('dr.include', 'Y90001');
  }, 120_000);
  afterAll(async () => r.drop());

  const meds = async () => {
    const res = await getAs<Bundle>(
      r,
      gp,
      `/fhir/MedicationRequest?patient=${id}&_include=MedicationRequest:medication`,
    );
    expect(res.status, res.text).toBe(200);
    return res;
  };

  it('a prescription naming a stored antiretroviral, sent later, is withheld at intake', async () => {
    expect((await postFhir(r, 'gp-riverside', bundle('batch', [request('mr-arv', 'med-arv')]))).status).toBe(
      200,
    );
    const { rows } = await r.db.query<{ sensitivity: string[] }>(
      `SELECT sensitivity FROM clinical_item WHERE person_id = $1 AND resource_type = 'MedicationRequest'
       AND body LIKE '%J05AR03%'`,
      [id],
    );
    expect(rows.map((x) => x.sensitivity.length > 0)).toEqual([true]);
    const res = await meds();
    expect(res.body.total).toBe(1);
    expect(JSON.stringify(res.body.entry)).not.toMatch(/J05AR03|Truvada/);
    expect(res.text).toContain('"resourceType":"Medication"');
  });

  it('a Medication re-sent with a never-shared code is no longer included', async () => {
    const resent = bundle('batch', [medication('med-x', ATC, 'J05AR03', 'Truvada')]);
    expect((await postFhir(r, 'gp-riverside', resent)).status).toBe(200);
    const res = await meds();
    // the prescription stored before still carries the code it came with and is served ...
    expect(res.body.total).toBe(1);
    // ... but the Medication, now an antiretroviral, is not included, and nothing points at it
    expect(res.body.entry?.filter((e) => e.search?.mode === 'include')).toEqual([]);
    expect(JSON.stringify(res.body.entry)).not.toMatch(/J05AR03|Truvada/);
    const served = res.body.entry?.find((e) => e.search?.mode === 'match')?.resource as {
      medicationCodeableConcept?: { text?: string };
      medicationReference?: unknown;
    };
    expect(served.medicationReference).toBeUndefined();
    expect(served.medicationCodeableConcept?.text).toBe('Amlodipine');
  });
});
