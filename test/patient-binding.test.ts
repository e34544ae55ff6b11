/**
 * A session bound to one patient (a `sharedcare token --patient` token, or the SMART session a
 * launch makes) opens that patient and nobody else, at every hop a caller can take: the launch,
 * authorise and token, and every read route under /fhir. The clinician here is at the GP practice
 * both people are registered with, so only the binding stands between them and the other record.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, NHS_A, NHS_B, patient } from './fhir-data.ts';
import { listRoutes, personIdFor, postFhir } from './http.ts';
import { smartLaunch } from './smart-kit.ts';

const document = (id: string, patientRef: string) =>
  ({
    resourceType: 'DocumentReference',
    id,
    status: 'current',
    type: { coding: [{ system: 'http://snomed.info/sct', code: '373942005', display: 'Discharge summary' }] },
    subject: { reference: patientRef },
    date: '2024-05-02T10:00:00Z',
    content: [{ attachment: { contentType: 'text/plain', data: 'RGlzY2hhcmdlZCB3ZWxs' } }],
  }) as never;

interface Attempt {
  /** the route as the server names it */
  route: string;
  method?: 'GET' | 'POST';
  url: string;
  payload?: unknown;
}

describe.each(DB_KINDS)('a session bound to one patient on %s', (kind) => {
  let r: TestRegion;
  const id: Record<string, string> = {};
  const principals: Record<string, string> = {};

  beforeAll(async () => {
    r = await startRegion(kind);
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('pb-a', NHS_A),
        condition('pb-a-c', 'Patient/pb-a', HYPERTENSION),
        patient('pb-b', NHS_B),
        condition('pb-b-c', 'Patient/pb-b', HYPERTENSION),
        document('pb-b-doc', 'Patient/pb-b'),
      ]),
    );
    id.a = await personIdFor(r, NHS_A);
    id.b = await personIdFor(r, NHS_B);
    const local = async (l: string) =>
      (
        await r.db.query<{ id: string }>(
          'SELECT id::text AS id FROM clinical_item WHERE source_local_id = $1',
          [l],
        )
      ).rows[0]!.id;
    id.bCondition = await local('pb-b-c');
    id.bDocument = await local('pb-b-doc');
    const secret = r.config.devIssuerSecret!;
    principals['a token bound with --patient'] = await mintUserToken(secret, {
      user: 'dr.gp',
      org: 'Y90001',
      role: 'R8000',
      patient: NHS_A,
    });
    const launched = await smartLaunch(r, await r.userToken('dr.gp', 'Y90001'), NHS_A);
    if (launched.step !== 'session') throw new Error(`launch for A failed: ${JSON.stringify(launched)}`);
    principals['a SMART session'] = launched.accessToken;
  });
  afterAll(async () => r.drop());

  /** Every way to ask for B's data under /fhir. */
  const readsOfB = (): Attempt[] => [
    {
      route: 'GET /fhir/Patient',
      url: `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS_B}`,
    },
    { route: 'GET /fhir/Patient/:id', url: `/fhir/Patient/${id.b}` },
    { route: 'GET /fhir/Patient/:id/$everything', url: `/fhir/Patient/${id.b}/$everything` },
    { route: 'GET /fhir/Patient/:id/$reconciled', url: `/fhir/Patient/${id.b}/$reconciled` },
    { route: 'GET /fhir/Patient/:id/$everything', url: `/fhir/Patient/${id.b}/$everything?_count=1` },
    { route: 'GET /fhir/Patient/:id/$summary', url: `/fhir/Patient/${id.b}/$summary` },
    {
      route: 'POST /fhir/Patient/:id/$break-glass',
      method: 'POST',
      url: `/fhir/Patient/${id.b}/$break-glass`,
      payload: { reason: 'emergency-care' },
    },
    { route: 'GET /fhir/Consent', url: `/fhir/Consent?patient=${id.b}` },
    { route: 'GET /fhir/:type', url: `/fhir/Condition?patient=${id.b}` },
    { route: 'GET /fhir/:type', url: `/fhir/DocumentReference?subject=Patient/${id.b}` },
    { route: 'GET /fhir/:type/:id', url: `/fhir/Condition/${id.bCondition}` },
    { route: 'GET /fhir/:type/:id', url: `/fhir/DocumentReference/${id.bDocument}` },
    { route: 'GET /fhir/:type/:id/_history/:vid', url: `/fhir/Condition/${id.bCondition}/_history/1` },
  ];

  const call = async (token: string, a: Attempt) => {
    const res = await r.app.server.inject({
      method: a.method ?? 'GET',
      url: a.url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(a.payload ? { payload: JSON.stringify(a.payload) } : {}),
    });
    return { status: res.statusCode, text: res.body };
  };

  it('the table below asks for B through every read route under /fhir', async () => {
    const routes = (await listRoutes(r)).filter(
      // (an Organization is the region's directory, nobody's record)
      (x) => x.includes(' /fhir/') && !/metadata|well-known|Organization/.test(x),
    );
    expect(new Set(readsOfB().map((a) => a.route))).toEqual(new Set(routes));
  });

  describe.each(['a token bound with --patient', 'a SMART session'])('%s for A', (who) => {
    it('reads A', async () => {
      const res = await call(principals[who]!, { route: '', url: `/fhir/Patient/${id.a}/$everything` });
      expect(res.status).toBe(200);
      expect(res.text).toContain(NHS_A);
    });

    it('gets nothing of B from any read route, and each attempt is audited as refused', async () => {
      for (const attempt of readsOfB()) {
        const before = (
          await r.db.query<{ s: string }>('SELECT coalesce(max(seq), 0)::text AS s FROM audit_event')
        ).rows[0]!.s;
        const res = await call(principals[who]!, attempt);
        expect([403, 404], `${attempt.url}: ${res.text}`).toContain(res.status);
        const outcome = JSON.parse(res.text) as OperationOutcome;
        expect(outcome.resourceType).toBe('OperationOutcome');
        for (const secret of [NHS_B, id.b, id.bCondition, id.bDocument, 'Testperson'])
          expect(res.text, attempt.url).not.toContain(secret);
        // the refusal itself; an alert it raises (no relationship, out of hours) is an event of its own
        const { rows } = await r.db.query<{ action: string; event: string }>(
          "SELECT action, event FROM audit_event WHERE seq > $1 AND action <> 'audit.alert' ORDER BY seq",
          [before],
        );
        expect(
          rows.map((x) => [x.action, JSON.parse(x.event).reasons]),
          attempt.url,
        ).toEqual([['access.refused', ['other-patient-in-context']]]);
      }
    });

    it('cannot launch B: the launch is refused and audited, so no authorisation or token follows', async () => {
      const res = await smartLaunch(r, principals[who]!, NHS_B);
      expect(res).toMatchObject({ step: 'launch', status: 403 });
      const { rows } = await r.db.query<{ event: string }>(
        `SELECT event FROM audit_event WHERE action = 'access.refused' AND person_id = $1 ORDER BY seq DESC LIMIT 1`,
        [id.b],
      );
      expect(JSON.parse(rows[0]!.event)).toMatchObject({
        detail: 'launch',
        reasons: ['other-patient-in-context'],
        user: { id: 'dr.gp' },
      });
    });

    it('can launch A again, and that session is still bound to A', async () => {
      const res = await smartLaunch(r, principals[who]!, NHS_A);
      expect(res).toMatchObject({ step: 'session', patient: id.a });
      if (res.step !== 'session') return;
      expect((await call(res.accessToken, readsOfB()[2]!)).status).toBe(403);
    });
  });

  it('a launch that names another patient than its bound user gets no code, and no token', async () => {
    // as a launch stored before bindings were kept would: the user bound to A, the launch for B
    const principal = {
      kind: 'user',
      userId: 'dr.gp',
      org: 'Y90001',
      role: 'R8000',
      issuer: 'x',
      patient: NHS_A,
    };
    await r.db.query(
      `INSERT INTO smart_launch (id, principal, nhs_number, created_at, expires_at)
       VALUES ('crossed-launch', $1, $2, now(), now() + interval '5 minutes')`,
      [JSON.stringify(principal), NHS_B],
    );
    const res = await smartLaunch(r, '', NHS_B, 'crossed-launch');
    expect(res.step).not.toBe('session');
  });
});
