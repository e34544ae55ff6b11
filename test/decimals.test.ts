/**
 * A result's precision, as the source wrote it, is what a clinician reads: "0.50" was measured to
 * two places, "0.5" to one. FHIR requires decimals be kept as sent; JSON.parse does not keep them.
 * Here, sent over FHIR JSON, NDJSON and HL7 v2, and read back through the API as text.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertSource } from '../src/region/index.ts';
import { bundle, HIV, observation, patient } from './fhir-data.ts';
import { count, getAs, personIdFor, postFhir, postHl7 } from './http.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

describe.each(DB_KINDS)('decimals kept as sent, on %s', (kind) => {
  let r: TestRegion;
  let token: string;
  beforeAll(async () => {
    r = await startRegion(kind);
    await upsertSource(r.db, { id: 'lab-hl7', org: 'RX1', kind: 'hl7v2' });
    token = await r.userToken('dr.gp', 'Y90001');
  });
  afterAll(async () => r.drop());

  /** the text of the person's Observations as the API serves them */
  const served = async (nhs: string) => {
    const id = await personIdFor(r, nhs);
    const res = await getAs<Bundle>(r, token, `/fhir/Observation?patient=${id}`);
    expect(res.status).toBe(200);
    return res.text;
  };

  it('serves a FHIR result with the trailing zeros, exponent and digits its source sent', async () => {
    const body = JSON.stringify(
      bundle('batch', [
        patient('dec-1', '9990003203'),
        observation('dec-o1', 'Patient/dec-1', 0, '2024-05-01', {
          valueQuantity: { value: '@72.50@', unit: 'kg' },
          referenceRange: [{ low: { value: '@3.50@' }, high: { value: '@5.30@' } }],
          component: [
            { code: { text: 'a' }, valueQuantity: { value: '@1.0E2@' } },
            { code: { text: 'b' }, valueQuantity: { value: '@3.14159265358979323846@' } },
            { code: { text: 'c' }, valueQuantity: { value: 7 } },
          ],
          note: [{ text: 'taken at 72.50 kg: "value":72.50 in the note stays a string' }],
        }),
      ]),
    ).replace(/"@([^@"]+)@"/g, '$1');
    expect(body).toContain('"value":72.50');
    expect((await postFhir(r, 'gp-riverside', body)).status).toBe(200);
    const text = await served('9990003203');
    for (const spelled of ['72.50', '3.50', '5.30', '1.0E2', '3.14159265358979323846'])
      expect(text).toContain(`"value":${spelled}`);
    expect(text).toContain('"value":7}');
    expect(text).toContain('taken at 72.50 kg: \\"value\\":72.50 in the note stays a string');
    // and the Bundle is still JSON a client reads
    expect(() => JSON.parse(text) as unknown).not.toThrow();
  });

  it('keeps them on an item whose reference to a withheld item is taken out at read', async () => {
    // a panel whose member is withheld: the panel is shown without the member's reference
    const withheld = observation('dec-hiv', 'Patient/dec-5', 1, '2024-05-01', { code: { coding: [HIV] } });
    const panel = observation('dec-o5', 'Patient/dec-5', 0, '2024-05-01', {
      valueQuantity: { value: '@0.50@', unit: 'mg/L' },
      hasMember: [{ reference: 'Observation/dec-hiv' }],
    });
    const body = JSON.stringify(bundle('batch', [patient('dec-5', '9990003262'), withheld, panel])).replace(
      /"@([^@"]+)@"/g,
      '$1',
    );
    expect((await postFhir(r, 'gp-riverside', body)).status).toBe(200);
    const text = await served('9990003262');
    expect(text).not.toContain('dec-hiv');
    expect(text).not.toContain('hasMember');
    expect(text).toContain('"value":0.50');
  });

  it('writes again, once, an item sent with more precision than is stored', async () => {
    const send = async (value: string) => {
      const body = JSON.stringify(
        bundle('batch', [patient('dec-6', '9990003270'), observation('dec-o6', 'Patient/dec-6', 0)]),
      ).replace('"value":0', `"value":${value}`);
      const res = await postFhir(r, 'gp-riverside', body);
      return res.body.entry?.[1]?.response?.outcome?.issue?.[0]?.diagnostics;
    };
    // 4.1 stands for what was stored before spellings were kept
    expect(await send('4.1')).toBe('Bundle.entry[1]: created');
    expect(await send('4.10')).toBe('Bundle.entry[1]: updated');
    expect(await send('4.10')).toBe('Bundle.entry[1]: unchanged');
    expect(await served('9990003270')).toContain('"value":4.10');
  });

  it('writes an integer element as an integer however it was spelled', async () => {
    const body = JSON.stringify(
      bundle('batch', [
        patient('dec-7', '9990003505'),
        observation('dec-o7', 'Patient/dec-7', 0, '2024-05-01', {
          valueQuantity: { value: '@1.0@' },
          component: [
            { code: { text: 'a' }, valueInteger: '@1.0@' },
            { code: { text: 'b' }, valueInteger: '@1E2@' },
          ],
        }),
      ]),
    ).replace(/"@([^@"]+)@"/g, '$1');
    expect((await postFhir(r, 'gp-riverside', body)).status).toBe(200);
    const text = await served('9990003505');
    expect(text).toContain('"valueQuantity":{"value":1.0}');
    expect(text).toContain('"valueInteger":1}');
    expect(text).toContain('"valueInteger":100}');
  });

  it('keeps them from NDJSON too', async () => {
    const lines = [
      JSON.stringify(patient('dec-2', '9990003211')),
      JSON.stringify(observation('dec-o2', 'Patient/dec-2', 0)).replace('"value":0', '"value":0.50'),
    ].join('\n');
    expect((await postFhir(r, 'gp-riverside', lines, 'application/fhir+ndjson')).status).toBe(200);
    expect(await served('9990003211')).toContain('"value":0.50');
  });

  it('keeps an HL7 v2 result as the laboratory wrote it', async () => {
    const pid = 'PID|1||H5001^^^RX1^MR~9990003238^^^NHS^NH||TESTER^Pat||19700101|M';
    // the admission gives the hospital its relationship with the patient
    const admission = [
      'MSH|^~\\&|lab-hl7|RX1|SHAREDCARE|REGION|20240316080000||ADT^A01^ADT_A01|DEC-0|P|2.4',
      'EVN|A01|20240316080000',
      pid,
      'PV1|1|I|WARD7^BED2^^RX1||||||||||||||||V-DEC|||||||||||||||||||||||||20240316080000',
    ].join('\r');
    expect(await postHl7(r, 'lab-hl7', admission)).toMatch(/MSA\|AA\|DEC-0/);
    const message = [
      'MSH|^~\\&|lab-hl7|RX1|SHAREDCARE|REGION|20240316090000||ORU^R01^ORU_R01|DEC-1|P|2.4',
      pid,
      'OBR|1|ORD-DEC|FIL-DEC|24326-1^Electrolytes^LN|||20240316090000',
      'OBX|1|NM|2823-3^Potassium^LN||4.10|mmol/L^mmol/L^UCUM|3.50-5.30|N|||F',
      'OBX|2|NM|2160-0^Creatinine^LN||+080|umol/L|||N|||F',
    ].join('\r');
    expect(await postHl7(r, 'lab-hl7', message)).toMatch(/MSA\|AA\|DEC-1/);
    const id = await personIdFor(r, '9990003238');
    const res = await getAs<Bundle>(
      r,
      await r.userToken('dr.ward', 'RX1'),
      `/fhir/Observation?patient=${id}`,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.text).toContain('"value":4.10');
    expect(res.text).toContain('"low":{"value":3.50}');
    expect(res.text).toContain('"high":{"value":5.30}');
    expect(res.text).toContain('"value":80');

    // a range bound no double holds is kept as text, and every read of the result still works
    const huge = `0-1${'0'.repeat(400)}`;
    const wide = message.replace('DEC-1', 'DEC-2').replace('3.50-5.30', huge);
    expect(await postHl7(r, 'lab-hl7', wide)).toMatch(/MSA\|AA\|DEC-2/);
    const ward = await r.userToken('dr.ward', 'RX1');
    for (const url of [`/fhir/Observation?patient=${id}`, `/fhir/Observation?patient=${id}&_include=*`]) {
      const read = await getAs<Bundle>(r, ward, url);
      expect(read.status, read.text).toBe(200);
      expect(read.text).toContain(huge);
    }
  });

  it('refuses a number no double holds, and a valueInteger outside 32 bits or not whole, storing nothing', async () => {
    const before = await count(r, 'clinical_item');
    const tooLarge = JSON.stringify(
      bundle('batch', [patient('dec-3', '9990003246'), observation('dec-o3', 'Patient/dec-3', 0)]),
    ).replace('"value":0', '"value":1e400');
    const huge = await postFhir(r, 'gp-riverside', tooLarge);
    expect(huge.status).toBe(400);
    expect(huge.text).toContain('too large');
    for (const value of [2147483648, 2.5]) {
      const sent = bundle('transaction', [
        patient('dec-4', '9990003254'),
        observation('dec-o4', 'Patient/dec-4', 0, '2024-05-01', {
          valueQuantity: undefined,
          valueInteger: value,
        }),
      ]);
      const res = await postFhir(r, 'gp-riverside', sent);
      expect(res.status).toBe(422);
      expect(res.text).toContain('valueInteger');
    }
    expect(await count(r, 'clinical_item')).toBe(before);
  });
});
