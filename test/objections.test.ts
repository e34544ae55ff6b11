/**
 * Objections as the person and staff meet them: recorded with the date and source of the request,
 * withdrawn the same way, kept as history and published as FHIR Consent; shown to staff opening the
 * record without the withheld data; overridden only for safeguarding or the public interest, by an
 * allowed role, with a notice to the person; and the national data opt-out kept apart.
 */
import type { Bundle, Consent, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROLE, DPO_ROLE, mintUserToken } from '../src/access/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, observation, patient } from './fhir-data.ts';
import { everything, getAs, personIdFor, postFhir } from './http.ts';

const NHS = '9990000018';

describe.each(DB_KINDS)('objections on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  let dpo: string;
  let dpoElsewhere: string;
  let clinician: string;
  let hospital: string;

  const call = async (token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await r.app.server.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, text: res.body };
  };
  const notices = (b: Bundle) =>
    (b.entry ?? [])
      .filter((e) => e.resource?.resourceType === 'OperationOutcome')
      .flatMap((e) => (e.resource as OperationOutcome).issue.map((i) => i.diagnostics ?? ''));
  const inFuture = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

  beforeAll(async () => {
    r = await startRegion(kind);
    dpo = await mintUserToken(r.config.devIssuerSecret!, { user: 'dpo1', org: 'Y90001', role: DPO_ROLE });
    dpoElsewhere = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dpo9',
      org: 'ZZZ99',
      role: DPO_ROLE,
    });
    clinician = await r.userToken('dr.gp', 'Y90001');
    hospital = await r.userToken('dr.ward', 'RX1');
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('p1', NHS, {
          address: [{ line: ['1 Riverside Lane'], postalCode: 'LS1 4AP' }],
          telecom: [{ system: 'phone', value: '0113 496 0001' }],
        }),
        condition('c1', 'Patient/p1', HYPERTENSION),
        observation('o1', 'Patient/p1', 48),
      ]),
    );
    // the hospital knows the person too (an encounter there), so both organisations have a relationship
    await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [
        patient('h1', NHS, { address: [{ line: ['9 Northgate Road'], postalCode: 'LS2 9JT' }] }),
        {
          resourceType: 'Encounter',
          id: 'e1',
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
          subject: { reference: 'Patient/h1' },
          period: { start: new Date().toISOString() },
        },
      ]),
    );
    personId = await personIdFor(r, NHS);
  });
  afterAll(async () => r?.drop());

  /** what the reader's open shows of the person's demographics (the combined Patient) */
  const shownPatient = (b: Bundle) =>
    JSON.stringify((b.entry ?? []).find((e) => e.resource?.resourceType === 'Patient')?.resource ?? {});
  /** the GP's demographics: its address, telephone and its own identifier for the person */
  const GP_DEMOGRAPHICS = /Riverside Lane|0113 496 0001|"value":"p1"/;

  let objectionId: string;

  it('records an objection with the date and source of the request', async () => {
    const res = await call(dpo, 'POST', '/admin/objections', {
      nhs: NHS,
      scope: 'organisation',
      target: 'Y90001',
      requestedOn: '2026-01-05',
      requestSource: 'letter to the practice',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      requestedOn: '2026-01-05',
      requestSource: 'letter to the practice',
      recorderOrg: 'Y90001',
    });
    objectionId = res.body.id;
  });

  it('refuses a request date in the future or not a date, and records nothing', async () => {
    const before = (await call(dpo, 'GET', `/admin/objections?nhs=${NHS}&all=true`)).body.length;
    for (const requestedOn of [inFuture(3), '05/01/2026']) {
      const res = await call(dpo, 'POST', '/admin/objections', { nhs: NHS, requestedOn });
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/requestedOn|YYYY-MM-DD/);
    }
    expect((await call(dpo, 'GET', `/admin/objections?nhs=${NHS}&all=true`)).body.length).toBe(before);
  });

  it('shows staff what the person objected to, without the withheld data', async () => {
    const open = await everything(r, personId, hospital);
    expect(open.status).toBe(200);
    // the organisation is named as the region knows it, and identified for the sources panel
    expect(notices(open.bundle).join('\n')).toMatch(
      /objected to sharing the data held by Riverside Surgery \(Y90001\)\./,
    );
    const issue = (open.bundle.entry ?? [])
      .flatMap((e) => (e.resource?.resourceType === 'OperationOutcome' ? e.resource.issue : []))
      .find((i) => i.diagnostics?.includes('Riverside Surgery'));
    expect(issue?.extension).toEqual([
      {
        url: 'https://sharedcare.dev/fhir/StructureDefinition/objection-organisation',
        valueIdentifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y90001' },
      },
    ]);
    expect(JSON.stringify(open.items)).not.toContain(HYPERTENSION.code);
  });

  it('leaves the organisation’s demographics out of the Patient on every path a reader takes', async () => {
    const open = await everything(r, personId, hospital);
    expect(shownPatient(open.bundle)).toContain('Northgate Road');
    expect(shownPatient(open.bundle)).not.toMatch(GP_DEMOGRAPHICS);
    const read = await getAs<Bundle>(r, hospital, `/fhir/Patient/${personId}`);
    expect(read.status).toBe(200);
    const byNhs = await getAs<Bundle>(
      r,
      hospital,
      `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`,
    );
    const byName = await getAs<Bundle>(r, hospital, '/fhir/Patient?family=Testperson&birthdate=1970-01-01');
    const summary = await getAs<Bundle>(r, hospital, `/fhir/Patient/${personId}/$summary`);
    for (const res of [read, byNhs, byName, summary]) {
      expect(res.text).toContain('Northgate Road');
      expect(res.text).not.toMatch(GP_DEMOGRAPHICS);
    }
    // found only through the GP's address: finding the person would confirm it
    const byGpPostcode = await getAs<Bundle>(
      r,
      hospital,
      '/fhir/Patient?birthdate=1970-01-01&address-postalcode=LS1%204AP',
    );
    expect(byGpPostcode.status).toBe(200);
    expect(byGpPostcode.body.total).toBe(0);
    const byOwnPostcode = await getAs<Bundle>(
      r,
      hospital,
      '/fhir/Patient?birthdate=1970-01-01&address-postalcode=LS2%209JT',
    );
    expect(byOwnPostcode.body.total).toBe(1);
  });

  it('publishes the register as FHIR Consent resources, through the gate', async () => {
    const res = await getAs<Bundle>(r, hospital, `/fhir/Consent?patient=${personId}`);
    expect(res.status).toBe(200);
    const consent = res.body.entry![0]!.resource as Consent;
    expect(consent).toMatchObject({ resourceType: 'Consent', id: objectionId, status: 'active' });
    expect(consent.provision?.type).toBe('deny');
    expect(consent.provision?.actor?.[0]?.reference?.identifier?.value).toBe('Y90001');
    expect(res.text).not.toContain(HYPERTENSION.code);
    // a reader with no relationship is refused here as everywhere
    const stranger = await getAs<Bundle>(
      r,
      await r.userToken('x', 'LAB01'),
      `/fhir/Consent?patient=${personId}`,
    );
    expect(stranger.status).toBe(403);
  });

  it('refuses the register, the opt-out and the DPO’s reports to a governance role held outside the region', async () => {
    const admin9 = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'admin9',
      org: 'ZZZ99',
      role: ADMIN_ROLE,
    });
    const privacyOfficer = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'po9',
      org: 'ZZZ99',
      role: 'R0001',
    });
    for (const [token, url] of [
      [dpoElsewhere, `/admin/objections?nhs=${NHS}`],
      [admin9, `/admin/opt-out?nhs=${NHS}`],
      [admin9, '/admin/sensitivity/review'],
      [dpoElsewhere, `/dpo/access-report?person=${NHS}`],
      [privacyOfficer, `/dpo/subject-access-report?person=${NHS}`],
    ] as const) {
      const res = await call(token, 'GET', url);
      expect(res.status, url).toBe(403);
      expect(res.text, url).toMatch(/ZZZ99 does not take part/);
      expect(res.text, url).not.toContain(personId);
    }
    // the same roles at an organisation of the region
    expect((await call(dpo, 'GET', `/admin/objections?nhs=${NHS}`)).status).toBe(200);
    expect((await call(dpo, 'GET', `/dpo/access-report?person=${NHS}`)).status).toBe(200);
  });

  it('lets only an allowed role override, only for safeguarding or public interest, with a reason and an end date', async () => {
    const tries: [string, unknown, number, RegExp][] = [
      [
        clinician,
        { ground: 'safeguarding', reason: 'Child protection conference', endsOn: inFuture(30) },
        403,
        /only these roles/,
      ],
      [
        dpo,
        { ground: 'curiosity', reason: 'Child protection conference', endsOn: inFuture(30) },
        400,
        /safeguarding or public-interest/,
      ],
      [dpo, { ground: 'safeguarding', reason: 'short', endsOn: inFuture(30) }, 400, /reason/],
      // an allowed role held at an organisation that does not take part in the region
      [
        dpoElsewhere,
        { ground: 'safeguarding', reason: 'Child protection conference', endsOn: inFuture(30) },
        403,
        /does not take part/,
      ],
      [
        dpo,
        { ground: 'safeguarding', reason: 'Child protection conference', endsOn: '2020-01-01' },
        400,
        /future/,
      ],
      [
        dpo,
        { ground: 'safeguarding', reason: 'Child protection conference', endsOn: inFuture(800) },
        400,
        /at most/,
      ],
    ];
    for (const [token, body, status, message] of tries) {
      const res = await call(token, 'POST', `/admin/objections/${objectionId}/override`, body);
      expect(res.status, res.text).toBe(status);
      expect(res.text).toMatch(message);
    }
    const { rows } = await r.db.query<{ n: number }>('SELECT count(*)::int AS n FROM objection_override');
    expect(rows[0]!.n).toBe(0);
  });

  let overrideId: string;

  it('overrides for one organisation until a date, and writes the notice to the person', async () => {
    const res = await call(dpo, 'POST', `/admin/objections/${objectionId}/override`, {
      ground: 'safeguarding',
      reason: 'Concern raised by the hospital safeguarding team about a vulnerable adult.',
      endsOn: inFuture(14),
      forOrg: 'RX1',
    });
    expect(res.status, res.text).toBe(201);
    overrideId = res.body.id;
    const notice: string = res.body.notice;
    expect(notice).toMatch(/not upheld/);
    expect(notice).toMatch(/safeguarding/);
    expect(notice).toMatch(/vulnerable adult/);
    expect(notice).toMatch(/Information Commissioner's Office/);
    expect(notice).toMatch(/ico\.org\.uk\/make-a-complaint/);
    expect(notice).toMatch(/0303 123 1113/);
  });

  it('lets that organisation see the data, with a notice; others still not', async () => {
    const atHospital = await everything(r, personId, hospital);
    expect(JSON.stringify(atHospital.items)).toContain(HYPERTENSION.code);
    expect(notices(atHospital.bundle).join('\n')).toMatch(/not upheld until .*safeguarding/);
    // the GP's demographics come back with its data (its record is the preferred one)
    expect(shownPatient(atHospital.bundle)).toContain('Riverside Lane');
    // the objection still holds for everyone else
    const elsewhere = await everything(r, personId, await r.userToken('dr.other', 'Y90001'));
    expect(JSON.stringify(elsewhere.items)).not.toContain(HYPERTENSION.code);
  });

  it('audits the override and shows it in the register and in the Consent', async () => {
    const { rows } = await r.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_event WHERE action = 'objection.override' AND person_id = $1`,
      [personId],
    );
    expect(rows[0]!.n).toBe(1);
    const list = await call(dpo, 'GET', `/admin/objections?nhs=${NHS}`);
    expect(list.body[0].overrides[0]).toMatchObject({
      id: overrideId,
      ground: 'safeguarding',
      forOrg: 'RX1',
    });
    expect(list.body[0].consent.provision.provision[0]).toMatchObject({ type: 'permit' });
  });

  it('ends an override early: the objection applies again at once', async () => {
    expect((await call(dpo, 'POST', `/admin/overrides/${overrideId}/end`, {})).status).toBe(200);
    const atHospital = await everything(r, personId, hospital);
    expect(JSON.stringify(atHospital.items)).not.toContain(HYPERTENSION.code);
    expect(shownPatient(atHospital.bundle)).not.toMatch(GP_DEMOGRAPHICS);
  });

  it('withdraws with the date and source of the request, and keeps the history', async () => {
    const res = await call(dpo, 'POST', `/admin/objections/${objectionId}/withdraw`, {
      requestedOn: '2026-02-01',
      requestSource: 'telephone',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ withdrawRequestedOn: '2026-02-01', withdrawSource: 'telephone' });
    expect((await call(dpo, 'GET', `/admin/objections?nhs=${NHS}`)).body).toEqual([]);
    const history = (await call(dpo, 'GET', `/admin/objections?nhs=${NHS}&all=true`)).body;
    expect(history[0]).toMatchObject({ id: objectionId });
    expect(history[0].consent).toMatchObject({ status: 'inactive' });
    expect(history[0].consent.provision.period.end).toBeTruthy();
    const open = await everything(r, personId, hospital);
    expect(JSON.stringify(open.items)).toContain(HYPERTENSION.code);
    expect(shownPatient(open.bundle)).toContain('Riverside Lane');
  });

  it('keeps the national data opt-out apart: it never changes what direct care sees', async () => {
    const set = await call(dpo, 'PUT', '/admin/opt-out', {
      nhs: NHS,
      optedOut: true,
      source: 'national service',
    });
    expect(set.status, set.text).toBe(200);
    expect((await call(dpo, 'GET', `/admin/opt-out?nhs=${NHS}`)).body).toMatchObject({ optedOut: true });
    const open = await everything(r, personId, hospital);
    expect(JSON.stringify(open.items)).toContain(HYPERTENSION.code);
    expect(notices(open.bundle).join('\n')).not.toMatch(/opt/i);
    expect((await call(dpo, 'GET', `/admin/objections?nhs=${NHS}`)).body).toEqual([]);
  });

  it('shows a person known only to the organisation objected to by NHS number alone, in valid FHIR', async () => {
    const only = '9990000212';
    expect(
      (
        await postFhir(
          r,
          'gp-riverside',
          bundle('batch', [patient('solo', only), observation('so1', 'Patient/solo', 51)]),
        )
      ).status,
    ).toBe(200);
    const res = await call(dpo, 'POST', '/admin/objections', {
      nhs: only,
      scope: 'organisation',
      target: 'Y90001',
    });
    expect(res.status, res.text).toBe(201);
    const open = await everything(r, await personIdFor(r, only), clinician);
    expect(open.status).toBe(200);
    const shown = shownPatient(open.bundle);
    expect(JSON.parse(shown)).toMatchObject({ identifier: [{ value: only }] });
    expect(shown).not.toContain('[]');
    expect(shown).not.toMatch(/Testperson|"value":"solo"/);
  });

  it('still honours an objection when the record is rebuilt under a new id (after retention removed it)', async () => {
    const res = await call(dpo, 'POST', '/admin/objections', {
      nhs: NHS,
      scope: 'category',
      target: 'problems',
    });
    expect(res.status, res.text).toBe(201);
    // what a retention run leaves behind: the objection, pointing at a record id that is gone
    await r.db.query('UPDATE objection SET person_id = $2 WHERE id = $1', [
      res.body.id,
      '00000000-0000-4000-8000-000000000001',
    ]);
    const open = await everything(r, personId, hospital);
    expect(JSON.stringify(open.items)).not.toContain(HYPERTENSION.code);
    await call(dpo, 'POST', `/admin/objections/${res.body.id}/withdraw`, {});
  });

  it('keeps the register to administrators and the data protection officer', async () => {
    expect((await call(clinician, 'GET', `/admin/objections?nhs=${NHS}`)).status).toBe(403);
    expect(
      (await call(clinician, 'PUT', '/admin/opt-out', { nhs: NHS, optedOut: false, source: 'x' })).status,
    ).toBe(403);
  });
});
