import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { everything, getAs, personIdFor, postFhir } from './http.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const recent = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);

async function auditActions(
  r: TestRegion,
  personId: string,
): Promise<{ action: string; outcome: string; event: Record<string, unknown> }[]> {
  const { rows } = await r.db.query<{ action: string; outcome: string; event: string }>(
    'SELECT action, outcome, event FROM audit_event WHERE person_id = $1 ORDER BY seq',
    [personId],
  );
  return rows.map((x) => ({ ...x, event: JSON.parse(x.event) as Record<string, unknown> }));
}

describe.each(DB_KINDS)('legitimate relationships and break glass on %s', (kind) => {
  let r: TestRegion;
  let gpOnly: string;
  beforeAll(async () => {
    r = await startRegion(kind);
    const appointment = {
      resourceType: 'Appointment',
      id: 'ap1',
      status: 'booked',
      start: '2030-01-01T09:00:00Z',
      end: '2030-01-01T09:15:00Z',
      participant: [{ actor: { reference: 'Patient/acc-1' }, status: 'accepted' }],
    } as Resource;
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('acc-1', '9990000182'),
        condition('acc-c', 'Patient/acc-1', HYPERTENSION),
        appointment,
      ]),
    );
    gpOnly = await personIdFor(r, '9990000182');
  });
  afterAll(async () => r.drop());

  it('refuses a clinician with no relationship, says break glass is possible, and audits the refusal', async () => {
    const token = await r.userToken('dr.er', 'RX1');
    const res = await getAs<OperationOutcome>(r, token, `/fhir/Patient/${gpOnly}/$everything`);
    expect(res.status).toBe(403);
    expect(res.body.issue[0]?.diagnostics).toMatch(/no legitimate relationship.*break the glass/s);
    expect(res.text).not.toContain('Testperson');
    const search = await getAs<Bundle>(
      r,
      token,
      '/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000182',
    );
    expect(search.status).toBe(200);
    const p = search.body.entry?.[0]?.resource as Patient;
    expect(p.id).toBe(gpOnly);
    expect(p.name).toBeUndefined();
    expect(
      (search.body.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome).issue[0]
        ?.code,
    ).toBe('forbidden');
    const events = await auditActions(r, gpOnly);
    // three refusals: the kit's own search in beforeAll, then this $everything and this search
    expect(events.filter((e) => e.action === 'access.refused').map((e) => e.event.reasons)).toEqual(
      Array(3).fill(['no-relationship']),
    );
  });

  it('answers a Patient read by id without a relationship as an unknown id: 404, nothing identifying, audited and alerted', async () => {
    const token = await r.userToken('dr.read', 'RX1');
    const res = await getAs<OperationOutcome>(r, token, `/fhir/Patient/${gpOnly}`);
    const unknown = await getAs<OperationOutcome>(
      r,
      token,
      '/fhir/Patient/6f1b8a0e-0000-4000-8000-00000000ffff',
    );
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.text).not.toContain('9990000182');
    expect(res.text).not.toContain(gpOnly);
    // the same answer as for an id that names no one
    expect(unknown.status).toBe(404);
    expect(res.body.issue).toEqual(unknown.body.issue);
    const events = await auditActions(r, gpOnly);
    expect(events.at(-1)).toMatchObject({
      action: 'access.refused',
      outcome: 'refused',
      event: { reasons: ['no-relationship'], detail: 'patient.search', user: { id: 'dr.read' } },
    });
    const { rows } = await r.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_alert WHERE rule = 'no-relationship' AND person_id = $1 AND user_id = 'dr.read'`,
      [gpOnly],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('still shows a session launched for the person (it knows the NHS number) the record id and NHS number, before break glass', async () => {
    const token = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dr.launched',
      org: 'RX1',
      role: 'R8000',
      patient: '9990000182',
    });
    const res = await getAs<Patient>(r, token, `/fhir/Patient/${gpOnly}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      resourceType: 'Patient',
      id: gpOnly,
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000182' }],
    });
  });

  it('lets the clinician break the glass with a reason: time-limited, flagged, audited', async () => {
    const token = await r.userToken('dr.er', 'RX1');
    const post = (payload: unknown) =>
      r.app.server.inject({
        method: 'POST',
        url: `/fhir/Patient/${gpOnly}/$break-glass`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });
    expect((await post({ reason: 'curiosity' })).statusCode).toBe(400);
    const res = await post({ reason: 'emergency-care', note: 'unconscious in ED' });
    expect(res.statusCode).toBe(200);
    const expires = (
      JSON.parse(res.body) as { parameter: { name: string; valueInstant?: string }[] }
    ).parameter.find((p) => p.name === 'expires')?.valueInstant;
    expect(Date.parse(expires!)).toBeGreaterThan(Date.now() + 50 * 60_000);

    const { status, items, bundle: b } = await everything(r, gpOnly, token);
    expect(status).toBe(200);
    expect(items.length).toBeGreaterThan(0);
    const notices = (b.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome).issue;
    expect(notices.some((i) => /break glass/.test(i.diagnostics ?? ''))).toBe(true);
    // the notice says when the access ends, in UK time, and carries the instant for a viewer
    const bg = notices.find((i) => i.code === 'security')!;
    const ends = new Date(expires!);
    const hhmm = ends.toLocaleTimeString('en-GB', {
      timeZone: 'Europe/London',
      hour: '2-digit',
      minute: '2-digit',
    });
    const day = ends.toLocaleDateString('en-GB', { timeZone: 'Europe/London' });
    expect(bg.diagnostics).toContain(`It ends at ${hhmm} on ${day} (UK time).`);
    expect(bg.extension).toEqual([
      { url: 'https://sharedcare.dev/fhir/StructureDefinition/break-glass-until', valueInstant: expires },
    ]);
    const events = await auditActions(r, gpOnly);
    expect(events.find((e) => e.action === 'break-glass')?.event).toMatchObject({
      reasons: ['break-glass', 'emergency-care'],
    });
    expect(events.at(-1)).toMatchObject({ action: 'record.open', event: { basis: 'break-glass' } });
    // another clinician at the same hospital has not broken the glass
    expect(
      (await getAs(r, await r.userToken('dr.other', 'RX1'), `/fhir/Patient/${gpOnly}/$everything`)).status,
    ).toBe(403);
  });

  it('derives relationships from the data: a hospital admission, a referral', async () => {
    const admission = {
      resourceType: 'Encounter',
      id: 'adm',
      status: 'finished',
      class: { code: 'IMP' },
      period: { start: recent, end: recent },
      subject: { reference: 'Patient/MRN-A' },
    } as Resource;
    await postFhir(r, 'northgate-pas', bundle('batch', [patient('MRN-A', '9990000190'), admission]));
    const admitted = await personIdFor(r, '9990000190');
    const { status } = await everything(r, admitted, await r.userToken('dr.ward', 'RX1'));
    expect(status).toBe(200);
    expect((await auditActions(r, admitted)).at(-1)?.event).toMatchObject({ basis: 'encounter' });

    const referral = {
      resourceType: 'ServiceRequest',
      id: 'ref1',
      status: 'active',
      intent: 'order',
      authoredOn: recent,
      subject: { reference: 'Patient/acc-1' },
      performer: [{ identifier: { system: ODS, value: 'RX1' } }],
    } as Resource;
    await postFhir(r, 'gp-riverside', bundle('batch', [referral]));
    const res = await everything(r, gpOnly, await r.userToken('dr.clinic', 'RX1'));
    expect(res.status).toBe(200);
    expect((await auditActions(r, gpOnly)).at(-1)?.event).toMatchObject({ basis: 'referral' });

    // the referral entered in error: the relationship it made goes with it
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [{ ...referral, status: 'entered-in-error' } as Resource]),
    );
    expect((await everything(r, gpOnly, await r.userToken('dr.clinic2', 'RX1'))).status).toBe(403);
  });

  it('shows a clerical role only its sections', async () => {
    const { items } = await everything(r, gpOnly, await r.userToken('reception', 'Y90001', 'R8010'));
    expect(items.map((i) => i.resourceType)).toEqual(['Appointment']);
  });

  it('refuses a session bound to another patient', async () => {
    const token = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dr',
      org: 'Y90001',
      role: 'R8000',
      patient: '9990000026',
    });
    const res = await getAs<OperationOutcome>(r, token, `/fhir/Patient/${gpOnly}/$everything`);
    expect(res.status).toBe(403);
    expect(res.body.issue[0]?.diagnostics).toMatch(/another patient/);
  });
});
