/**
 * Bad input gets a 4xx and an OperationOutcome, changes nothing, and leaves nothing of itself in
 * the log. Each case here was answered 500 (or accepted wrongly) before the body-level guard
 * (src/fhir/guard.ts) and validation-before-use in intake.
 */
import { mintUserToken, DPO_ROLE } from '../src/access/index.ts';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { count, getAs, personIdFor, postFhir } from './http.ts';
import { captureLog, type CapturedLog } from './log-capture.ts';

const MARKER = 'Quillon-Mossgate-4417';
const NHS = '9990000042';

/** As text: JSON.stringify itself overflows the stack on 10,000 levels. */
function deeplyNested(depth: number): string {
  const open = '{"url":"http://example.org/x","extension":['.repeat(depth);
  return `${open}{"url":"http://example.org/leaf","valueString":"${MARKER}"}${']}'.repeat(depth)}`;
}

function withNote(id: string, text: string): Resource {
  return condition(id, 'Patient/bi-p', HYPERTENSION, { note: [{ text }] });
}

describe.each(DB_KINDS)('bad input on %s', (kind) => {
  let r: TestRegion;
  let log: CapturedLog;
  let personId: string;
  let rows: () => Promise<number>;
  beforeAll(async () => {
    log = captureLog();
    r = await startRegion(kind, {}, { log: log.log });
    const res = await postFhir(r, 'gp-riverside', bundle('transaction', [patient('bi-p', NHS)]));
    expect(res.status).toBe(200);
    personId = await personIdFor(r, NHS);
    rows = async () =>
      (await count(r, 'clinical_item')) + (await count(r, 'person_link')) + (await count(r, 'person'));
  });
  afterAll(async () => r.drop());

  function expectRefused(res: { status: number; body: unknown; text: string }, status?: number): void {
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
    if (status) expect(res.status, res.text).toBe(status);
    expect((res.body as { resourceType?: string }).resourceType).toBe('OperationOutcome');
    expect(res.text).not.toContain(MARKER);
    expect(log.text()).not.toContain(MARKER);
  }

  const bodies: [string, () => unknown, number][] = [
    ['a NUL in a string of an item', () => bundle('batch', [withNote('bi-c1', `${MARKER}\u0000`)]), 400],
    [
      'a lone surrogate in a string of an item',
      () => JSON.stringify(bundle('batch', [withNote('bi-c2', MARKER)])).replace(MARKER, `${MARKER}\\ud800`),
      400,
    ],
    ['an extension nested 10,000 deep', () => deepBundle(), 400],
    [
      'an Appointment participant sent as an object',
      () =>
        bundle('batch', [
          {
            resourceType: 'Appointment',
            id: 'bi-a1',
            status: 'booked',
            description: MARKER,
            participant: { actor: { reference: 'Patient/bi-p' }, status: 'accepted' },
          } as unknown as Resource,
        ]),
      422,
    ],
    [
      'a Patient identifier [null, …]',
      () =>
        bundle('batch', [
          {
            ...patient('bi-p2', undefined),
            identifier: [null, { system: 'https://example.nhs.uk/Id/local', value: MARKER }],
          } as unknown as Resource,
        ]),
      422,
    ],
    [
      'a misspelled resourceType',
      () =>
        bundle('batch', [{ ...withNote('bi-c4', MARKER), resourceType: 'Conditon' } as unknown as Resource]),
      422,
    ],
    [
      'duplicate fullUrls in one Bundle',
      () => {
        const b = bundle('transaction', [withNote('bi-c5', MARKER), withNote('bi-c6', MARKER)]);
        for (const e of b.entry!) e.fullUrl = 'urn:uuid:8d1e2f64-0bd6-4a2b-9f2c-1e7f3c6d5a01';
        return b;
      },
      422,
    ],
    [
      'a fullUrl that is not a string',
      () => {
        const b = bundle('batch', [withNote('bi-c7', MARKER)]);
        (b.entry![0] as { fullUrl: unknown }).fullUrl = { x: MARKER };
        return b;
      },
      422,
    ],
    [
      'a reference sent as a string',
      () =>
        bundle('batch', [{ ...withNote('bi-c8', MARKER), subject: 'Patient/bi-p' } as unknown as Resource]),
      422,
    ],
    [
      'a null coding',
      () =>
        bundle('batch', [
          { ...withNote('bi-c9', MARKER), code: { coding: [null], text: MARKER } } as unknown as Resource,
        ]),
      422,
    ],
  ];

  function deepBundle(): string {
    const b = bundle('batch', [withNote('bi-c3', 'x')]);
    (b.entry![0]!.resource as { extension?: unknown[] }).extension = ['DEEP'];
    return JSON.stringify(b).replace('"DEEP"', deeplyNested(10_000));
  }

  it.each(bodies)(
    '%s is refused with an OperationOutcome and stores nothing',
    async (_name, body, status) => {
      const before = await rows();
      const res = await postFhir(r, 'gp-riverside', body());
      expectRefused(res, status);
      expect(await rows()).toBe(before);
    },
  );

  it('NDJSON with a NUL or a lone surrogate is refused, naming the line', async () => {
    const before = await rows();
    for (const bad of ['\\u0000', '\\udc00']) {
      const lines = [patient('bi-p', NHS), withNote('bi-n1', `${MARKER}${bad}`)]
        .map((x) => JSON.stringify(x).replace(`${MARKER}${bad.replace('\\', '\\\\')}`, `${MARKER}${bad}`))
        .join('\n');
      const res = await postFhir(r, 'gp-riverside', lines, 'application/fhir+ndjson');
      expectRefused(res, 400);
      expect(res.text).toContain('line 2');
    }
    expect(await rows()).toBe(before);
  });

  it('a known type outside a care record is acknowledged as ignored, and not read', async () => {
    for (const claim of [
      { resourceType: 'Claim', id: 'bi-claim', status: 'active' },
      { resourceType: 'Claim', id: 'bi-claim2', identifier: MARKER, patient: [null] },
    ]) {
      const res = await postFhir(r, 'gp-riverside', bundle('batch', [claim as unknown as Resource]));
      expect(res.status).toBe(200);
      expect(res.text).toContain('ignored');
    }
    expect(log.text()).not.toContain(MARKER);
  });

  it.each([
    ['code', '%00'],
    ['status', '%00'],
    ['date', '%00'],
  ])('a search with %s=%s is refused with an OperationOutcome', async (name, value) => {
    const token = await r.userToken('dr.bi', 'Y90001');
    const res = await getAs(r, token, `/fhir/Condition?patient=${personId}&${name}=${value}`);
    expectRefused(res, 400);
  });

  it('a NUL in a path segment or a Patient search is refused', async () => {
    const token = await r.userToken('dr.bi', 'Y90001');
    expectRefused(await getAs(r, token, `/fhir/Patient/${personId}%00/$everything`));
    expectRefused(
      await getAs(r, token, '/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|%00'),
      400,
    );
  });

  it('a query parameter given twice where one is expected is refused, not read as a list', async () => {
    const token = await r.userToken('dr.bi', 'Y90001');
    const nhsSearch = `identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`;
    expectRefused(await getAs(r, token, `/fhir/Patient?${nhsSearch}&${nhsSearch}`), 400);
    expectRefused(await getAs(r, token, `/fhir/Condition?patient=${personId}&patient=${personId}`), 400);
    const admin = await r.adminToken();
    const res = await getAs(r, admin, `/admin/objections?nhs=${NHS}&nhs=${NHS}`);
    expect(res.status, res.text).toBe(400);
    // FHIR's date range is the one repeated parameter the searches take
    const range = await getAs(
      r,
      token,
      `/fhir/Condition?patient=${personId}&date=ge2020-01-01&date=le2030-01-01`,
    );
    expect(range.status, range.text).toBe(200);
  });

  it('the DPO access report refuses user=%00 with an OperationOutcome', async () => {
    const dpo = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dpo1',
      org: 'Y90001',
      role: DPO_ROLE,
    });
    for (const q of ['user=%00', 'person=%00', 'user=x&from=%00'])
      expectRefused(await getAs(r, dpo, `/dpo/access-report?${q}`), 400);
  });

  it('an admin query or JSON body with a NUL is refused (problem+json) and changes nothing', async () => {
    const admin = await r.adminToken();
    const q = await r.app.server.inject({
      method: 'GET',
      url: '/admin/organisations?x=%00',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(q.statusCode).toBe(400);
    const before = await count(r, 'organisation');
    const b = await r.app.server.inject({
      method: 'POST',
      url: '/admin/organisations',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ ods: 'ZZ1', name: `${MARKER}\u0000`, contributes: true, views: false }),
    });
    expect(b.statusCode).toBe(400);
    expect(b.body).not.toContain(MARKER);
    expect(await count(r, 'organisation')).toBe(before);
    expect(log.text()).not.toContain(MARKER);
  });
});
