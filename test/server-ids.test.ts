/**
 * A transaction may POST resources with neither fullUrl nor id: the server assigns the id. Such an
 * entry is named by its identifier, else by its content, so that a re-send stores nothing new.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { HIV, patient, prescription } from './fhir-data.ts';
import { count, everything, personIdFor, postFhir } from './http.ts';
import { captureLog, type CapturedLog } from './log-capture.ts';

const MARKER = 'Ostrander-Vellichor-5150';
const NHS = '9990000069';
const PATIENT_URL = 'urn:uuid:5b0e4a53-3f3c-4f55-9d7e-2b5d6f1c9a10';

function procedure(text: string, extra: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'Procedure',
    status: 'completed',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '80146002', display: 'Appendicectomy' }] },
    subject: { reference: PATIENT_URL },
    performedDateTime: '2020-02-02',
    note: [{ text }],
    ...extra,
  } as Resource;
}

function transaction(items: Resource[]): Bundle {
  const { id: _id, ...unnamedPatient } = patient('unused', NHS) as Resource & { identifier: unknown };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: PATIENT_URL,
        resource: unnamedPatient as Resource,
        request: { method: 'POST', url: 'Patient' },
      },
      ...items.map((resource) => ({
        resource,
        request: { method: 'POST' as const, url: resource.resourceType },
      })),
    ],
  };
}

describe.each(DB_KINDS)('server-assigned ids on %s', (kind) => {
  let r: TestRegion;
  let log: CapturedLog;
  beforeAll(async () => {
    log = captureLog();
    r = await startRegion(kind, {}, { log: log.log });
  });
  afterAll(async () => r.drop());

  it('stores POST entries without fullUrl or id, each once, and a re-send stores nothing new', async () => {
    const items = [procedure(`${MARKER} first`), procedure(`${MARKER} second`)];
    const first = await postFhir(r, 'gp-riverside', transaction(items));
    expect(first.status, first.text).toBe(200);
    expect(first.body.entry?.map((e) => e.response?.status)).toEqual([
      '200 OK',
      '201 Created',
      '201 Created',
    ]);
    const stored = await count(r, 'clinical_item');

    const again = await postFhir(r, 'gp-riverside', transaction(items));
    expect(again.status, again.text).toBe(200);
    expect(again.body.meta?.tag).toEqual(expect.arrayContaining([{ code: 'unchanged', display: '3' }]));
    expect(await count(r, 'clinical_item')).toBe(stored);

    const { items: seen } = await everything(r, await personIdFor(r, NHS));
    expect(seen.filter((i) => i.resourceType === 'Procedure')).toHaveLength(2);
    expect(log.text()).not.toContain(MARKER);
  });

  it('names such an entry by its identifier, so a changed version replaces it', async () => {
    const identifier = [{ system: 'https://example.nhs.uk/Id/procedure', value: 'PR-77' }];
    const a = await postFhir(r, 'gp-riverside', transaction([procedure('v1', { identifier })]));
    expect(a.body.entry?.[1]?.response?.status).toBe('201 Created');
    const b = await postFhir(r, 'gp-riverside', transaction([procedure('v2', { identifier })]));
    expect(b.body.entry?.[1]?.response?.status).toBe('200 OK');
    expect(b.body.entry?.[1]?.response?.location).toBe(
      a.body.entry?.[1]?.response?.location?.replace('/_history/1', '/_history/2'),
    );
  });

  it('accepts a type whose identifier is a single Identifier (QuestionnaireResponse)', async () => {
    const qr = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      identifier: { system: 'https://example.nhs.uk/Id/qr', value: 'QR-1' },
      subject: { reference: PATIENT_URL },
      authored: '2021-01-01',
    } as Resource;
    const res = await postFhir(r, 'gp-riverside', transaction([qr]));
    expect(res.status, res.text).toBe(200);
    expect(res.body.entry?.[1]?.response?.status).toBe('201 Created');
  });

  it('refuses, with a 422 that says to send an id, a Patient named only by an identifier too long to file', async () => {
    const before = await count(r, 'person_link');
    // random, as an index entry of repeated characters would compress below the limit
    const long = randomBytes(1500).toString('hex');
    const res = await postFhir(r, 'gp-riverside', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: {
            resourceType: 'Patient',
            identifier: [{ system: 'https://example.nhs.uk/Id/local', value: long }],
            birthDate: '1980-01-01',
          },
          request: { method: 'POST', url: 'Patient' },
        },
      ],
    });
    expect(res.status, res.text).toBe(422);
    expect(res.text).toMatch(/send an id/);
    expect(res.text).not.toContain(long);
    expect(await count(r, 'person_link')).toBe(before);
  });

  // A FHIR client that POSTs without ids keeps the ids the answer gives (`response.location`) and
  // names what it made by them from then on, as FHIR's RESTful semantics say it may.
  it('takes the ids it answered with as names of what the source stored: a link withholds, a PUT updates, a DELETE deletes', async () => {
    const nhs = '9990005117';
    const { id: _pid, ...unnamed } = patient('unused', nhs) as Resource & { identifier: unknown };
    const hiv = {
      resourceType: 'Condition',
      code: { coding: [HIV] },
      subject: { reference: 'urn:uuid:0c1d7e1a-6c0e-4f7e-9a55-3f1f0a7b5151' },
    } as Resource;
    const glucose = (value: string, subject: string) =>
      ({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'Glucose' },
        subject: { reference: subject },
        valueString: value,
      }) as Resource;
    const made = await postFhir(r, 'gp-riverside', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:0c1d7e1a-6c0e-4f7e-9a55-3f1f0a7b5151',
          resource: unnamed as Resource,
          request: { method: 'POST', url: 'Patient' },
        },
        { resource: hiv, request: { method: 'POST', url: 'Condition' } },
        {
          resource: glucose('5.1', 'urn:uuid:0c1d7e1a-6c0e-4f7e-9a55-3f1f0a7b5151'),
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    expect(made.status, made.text).toBe(200);
    const [patientAt, conditionAt, observationAt] = made.body.entry!.map((e) => e.response!.location!);
    const at = (location: string) => location.replace(/\/_history\/.*$/, '');
    const one = (resource: Resource, method: 'PUT' | 'POST', url: string): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource, request: { method, url } }],
    });
    const shown = async (type: string) =>
      (await everything(r, await personIdFor(r, nhs))).items.filter((i) => i.resourceType === type);

    const given = prescription('mr-s1', at(patientAt!), 'Paracetamol 500mg tablets', {
      reference: at(conditionAt!),
    });
    const linked = await postFhir(r, 'gp-riverside', one(given, 'PUT', 'MedicationRequest/mr-s1'));
    expect(linked.status, linked.text).toBe(200);
    expect(await shown('MedicationRequest')).toEqual([]);

    const changed = { ...glucose('6.3', at(patientAt!)), id: at(observationAt!).split('/')[1] } as Resource;
    const put = await postFhir(r, 'gp-riverside', one(changed, 'PUT', at(observationAt!)));
    expect(put.status, put.text).toBe(200);
    expect(put.body.entry![0]!.response!.location).toBe(`${at(observationAt!)}/_history/2`);
    expect((await shown('Observation')).map((o) => (o as { valueString: string }).valueString)).toEqual([
      '6.3',
    ]);

    const gone = await postFhir(r, 'gp-riverside', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'DELETE', url: at(observationAt!) } }],
    });
    expect(gone.status, gone.text).toBe(200);
    expect(await shown('Observation')).toEqual([]);
  });
});
