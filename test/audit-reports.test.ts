/**
 * The DPO's reports over HTTP: who may run them, the three formats of the access report (JSON,
 * CSV, a FHIR Bundle of BALP AuditEvents), and the subject-access report fit to send.
 */
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { fixedClock, DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, NHS_B, patient } from './fhir-data.ts';
import { getAs, personIdFor, postFhir } from './http.ts';

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';

describe.each(DB_KINDS)('DPO reports on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  let dpo: string;
  const as = (user: string, org: string, role = 'R8000', name?: string) =>
    mintUserToken(r.config.devIssuerSecret!, { user, org, role, ...(name ? { name } : {}) });
  const get = (token: string, url: string, accept?: string) =>
    r.app.server.inject({
      url,
      headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
    });

  beforeAll(async () => {
    r = await startRegion(kind, {}, { clock: fixedClock() });
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('rp-1', NHS_B), condition('rp-c', 'Patient/rp-1', HYPERTENSION)]),
    );
    personId = await personIdFor(r, NHS_B);
    dpo = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dpo.one',
      org: 'Y90001',
      role: 'sharedcare-dpo',
    });
    const gp = await as('dr.gp', 'Y90001', 'R8000', 'Dr Pat Green');
    await getAs(r, gp, `/fhir/Patient/${personId}/$everything`);
    await getAs(r, gp, `/fhir/Condition?patient=${personId}`);
    await getAs(r, await as('dr.er', 'RX1', 'R8001'), `/fhir/Patient/${personId}/$everything`); // refused
  });
  afterAll(async () => r.drop());

  it.each([
    ['a clinician', () => as('dr.gp', 'Y90001')],
    ['an administrator', () => as('admin', 'Y90001', 'sharedcare-admin')],
  ])('refuses %s with a 403 OperationOutcome', async (_who, token) => {
    for (const url of [
      `/dpo/access-report?person=${NHS_B}`,
      `/dpo/subject-access-report?person=${NHS_B}`,
      '/dpo/alerts',
    ]) {
      const res = await get(await token(), url);
      expect(res.statusCode, url).toBe(403);
      expect((JSON.parse(res.body) as OperationOutcome).resourceType).toBe('OperationOutcome');
      expect(res.body).not.toContain('record.open');
    }
  });

  it('refuses a request without a token (401) and lets a national Privacy Officer role in', async () => {
    expect((await r.app.server.inject({ url: `/dpo/access-report?person=${NHS_B}` })).statusCode).toBe(401);
    expect(
      (await get(await as('privacy', 'Y90001', 'R0001'), `/dpo/access-report?person=${NHS_B}`)).statusCode,
    ).toBe(200);
  });

  it('answers bad requests clearly', async () => {
    for (const [url, expression] of [
      [`/dpo/access-report`, 'person'],
      [`/dpo/access-report?person=${NHS_B}&user=dr.gp`, 'user'],
      [`/dpo/access-report?person=${NHS_B}&from=yesterday`, 'from'],
      [`/dpo/access-report?person=1234567890`, 'nhs'],
      [`/dpo/access-report?person=${NHS_B}&_format=xml`, '_format'],
      [`/dpo/access-report?patient=${NHS_B}`, ''],
    ] as const) {
      const res = await get(dpo, url);
      expect(res.statusCode, url).toBe(400);
      const oo = JSON.parse(res.body) as OperationOutcome;
      if (expression) expect(oo.issue[0]?.expression, url).toEqual([expression]);
    }
    expect((await get(dpo, '/dpo/access-report?person=9990000034')).statusCode).toBe(404);
  });

  it('reports by person and by user as JSON, within a period', async () => {
    const byPerson = JSON.parse((await get(dpo, `/dpo/access-report?person=${NHS_B}`)).body) as {
      action: string;
      user: { id: string };
    }[];
    expect(byPerson.map((e) => e.action)).toEqual(
      expect.arrayContaining(['record.open', 'record.search', 'access.refused']),
    );
    const byUser = JSON.parse((await get(dpo, '/dpo/access-report?user=dr.gp')).body) as {
      action: string;
      user: { id: string };
      personId: string;
    }[];
    expect(new Set(byUser.map((e) => e.user.id))).toEqual(new Set(['dr.gp']));
    // the reads, then what dr.gp was refused at the DPO's endpoints (the test above)
    expect(byUser.map((e) => e.action)).toEqual([
      'record.open',
      'record.search',
      ...byUser.slice(2).map(() => 'request.refused'),
    ]);
    expect(byUser.length).toBeGreaterThan(2);
    const past = JSON.parse(
      (await get(dpo, `/dpo/access-report?person=${NHS_B}&from=2001-01-01&to=2001-12-31`)).body,
    );
    expect(past).toEqual([]);
  });

  it('reports as CSV (by Accept or _format), one row per event, formula-safe', async () => {
    for (const [url, accept] of [
      [`/dpo/access-report?user=dr.gp`, 'text/csv'],
      [`/dpo/access-report?user=dr.gp&_format=csv`, undefined],
    ] as const) {
      const res = await get(dpo, url, accept);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      // (leaving out what dr.gp was refused at the DPO's endpoints, above)
      const lines = res.body
        .trim()
        .split('\n')
        .filter((l) => !l.includes('request.refused'));
      expect(lines[0]).toMatch(/^at,action,outcome,user_id,user_name,user_role,user_org,/);
      expect(lines).toHaveLength(3);
      expect(lines[1]).toContain('record.open');
      expect(lines[1]).toContain('Dr Pat Green');
    }
  });

  it('reports as a FHIR Bundle of AuditEvents following IHE BALP', async () => {
    const res = await get(dpo, `/dpo/access-report?person=${NHS_B}`, 'application/fhir+json');
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const b = JSON.parse(res.body) as Bundle<AuditEvent>;
    expect(b).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const events = b.entry!.map((e) => e.resource!);
    const open = events.find((e) => e.subtype?.some((s) => s.code === 'record.open'))!;
    expect(open).toMatchObject({
      meta: { profile: [`${BALP}PatientQuery`] },
      type: { code: 'rest' },
      action: 'E',
      outcome: '0',
      purposeOfEvent: [{ coding: [{ code: 'TREAT' }] }],
    });
    const user = open.agent.find((a) => a.type?.coding?.[0]?.code === 'IRCP')!;
    expect(user).toMatchObject({
      requestor: true,
      who: { identifier: { value: 'dr.gp' } },
      role: [{ coding: [{ code: 'R8000' }] }],
    });
    expect(open.agent.map((a) => a.type?.coding?.[0]?.code)).toEqual(
      expect.arrayContaining(['PROV', '110152']),
    );
    expect(open.entity).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          what: { reference: `Patient/${personId}` },
          role: expect.objectContaining({ code: '1' }),
        }),
        expect.objectContaining({ role: expect.objectContaining({ code: '24' }), query: expect.any(String) }),
      ]),
    );
    const refused = events.find((e) => e.subtype?.some((s) => s.code === 'access.refused'))!;
    expect(refused).toMatchObject({
      type: { code: '110113' },
      outcome: '8',
      outcomeDesc: expect.stringMatching(/no-relationship/),
    });
    expect(refused.agent.map((a) => a.type?.coding?.[0]?.code)).toContain('authserver');
    const fhir = JSON.parse(
      (await get(dpo, `/dpo/access-report?person=${NHS_B}&_format=fhir`)).body,
    ) as Bundle;
    expect(fhir.resourceType).toBe('Bundle');
  });

  it('produces a subject-access report fit to send: organisations and roles, never staff', async () => {
    const html = await get(dpo, `/dpo/subject-access-report?person=${NHS_B}`);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toContain('Who has looked at your shared care record');
    expect(html.body).toContain('Riverside Surgery (Y90001)');
    expect(html.body).toContain('Clinical practitioner');
    expect(html.body).toContain('Nurse');
    expect(html.body).toMatch(/refused/);
    for (const secret of ['dr.gp', 'Pat Green', 'dr.er', personId, 'dpo.one'])
      expect(html.body).not.toContain(secret);

    const text = await get(dpo, `/dpo/subject-access-report?person=${NHS_B}&_format=text`);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.body).toMatch(/NHS number: 999 000 0026/);
    expect(text.body).toMatch(/a clinical practitioner at Riverside Surgery/);
    const csv = await get(dpo, `/dpo/subject-access-report?person=${NHS_B}`, 'text/csv');
    expect(csv.body.split('\n')[0]).toBe('date,from,to,organisation,organisation_code,staff_role,what,why');
  });

  it('audits every report run', async () => {
    const { rows } = await r.db.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM audit_event WHERE action LIKE 'audit.%' AND user_id IN ('dpo.one', 'privacy') GROUP BY action ORDER BY action`,
    );
    expect(Object.fromEntries(rows.map((x) => [x.action, x.n]))).toMatchObject({
      'audit.report': expect.any(Number),
      'audit.subject-access': 3,
    });
  });
});
