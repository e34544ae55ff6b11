/**
 * `_include` through an independent client (fhir-kit-client over a socket), the included
 * resources valid FHIR R4; and `_include` of Medications is classified like the items: a prescription that names a stored
 * antiretroviral Medication sent in an earlier request is withheld at intake (the drug's code is
 * carried on the item, as when it comes in the same Bundle), and a Medication that its source
 * later re-sends with a never-shared code is no longer included, even for a prescription that was
 * stored before and is still served.
 */
import type { AddressInfo } from 'node:net';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateFhirResource } from '../src/fhir/index.ts';
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
      {
        resourceType: 'Practitioner',
        id: 'gp-1',
        name: [{ family: 'Mensah', given: ['Kofi'], prefix: ['Dr'] }],
      } as Resource,
      {
        resourceType: 'Condition',
        id: 'c-1',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] },
        subject: P,
        asserter: { reference: 'Practitioner/gp-1' },
      } as Resource,
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

  it('fhir-kit-client gets the Medication and the Practitioner with _include, valid R4, referenced', async () => {
    await r.app.server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = r.app.server.server.address() as AddressInfo;
    const client = new Client({
      baseUrl: `http://127.0.0.1:${port}/fhir`,
      customHeaders: { authorization: `Bearer ${gp}` },
    });
    const got = async (resourceType: string, include: string) =>
      (await client.search({
        resourceType,
        searchParams: { patient: id, _include: include },
      })) as unknown as Bundle;
    const rx = await got('MedicationRequest', 'MedicationRequest:medication');
    const cond = await got('Condition', 'Condition:asserter');
    for (const [b, type] of [
      [rx, 'Medication'],
      [cond, 'Practitioner'],
    ] as const) {
      const included = (b.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource!);
      expect(included.map((x) => x.resourceType)).toEqual([type]);
      const match = b.entry!.find((e) => e.search?.mode === 'match')!.resource!;
      expect(JSON.stringify(match)).toContain(`"reference":"${type}/${included[0]!.id}"`);
      for (const res of [match, ...included])
        expect(validateFhirResource(res, res.resourceType, 'full')).toEqual([]);
    }
    expect(JSON.stringify(rx)).toContain('Amlodipine');
    expect(JSON.stringify(cond)).toContain('Mensah');
  });

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
