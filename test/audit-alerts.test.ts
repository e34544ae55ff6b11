/**
 * Alert rules end to end: they fire as events arrive (in the read's own transaction), once per
 * window, and not for ordinary work; the DPO lists them and marks them reviewed with a note.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { recordAuditEvent } from '../src/audit/index.ts';
import { fixedClock, DB_KINDS, startRegion, testConfig, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { getAs, personIdFor, postFhir } from './http.ts';

const PEOPLE = ['9990000247', '9990000255', '9990000263', '9990000271'];
const PROTECTED = '9990000298';
const RESTRICTED = '9990000301';
/** a Testperson living at LS6 2QT */
const HOUSEHOLD = '9990000328';

interface Alert {
  id: string;
  rule: string;
  userId: string;
  personId: string | null;
  status: string;
  summary: string;
  reviewNote: string | null;
}

describe.each(DB_KINDS)('alerts on %s', (kind) => {
  let r: TestRegion;
  let dpo: string;
  const ids: Record<string, string> = {};
  const as = (user: string, org: string, name?: string, postcode?: string) =>
    mintUserToken(r.config.devIssuerSecret!, {
      user,
      org,
      role: 'R8000',
      ...(name ? { name } : {}),
      ...(postcode ? { postcode } : {}),
    });
  const open = async (token: string, nhs: string) =>
    (await getAs(r, token, `/fhir/Patient/${ids[nhs]}/$everything`)).status;
  const alerts = async (status = 'open') =>
    (await getAs<Alert[]>(r, dpo, `/dpo/alerts?status=${status}`)).body;
  const rulesFor = async (user: string) =>
    (await alerts('all'))
      .filter((a) => a.userId === user)
      .map((a) => a.rule)
      .sort();

  beforeAll(async () => {
    const base = testConfig().audit;
    r = await startRegion(
      kind,
      {
        audit: {
          ...base,
          alerts: {
            ...base.alerts,
            // every day is a non-working day: any access is out of hours, except at the GP practice
            outOfHours: { ...base.alerts.outOfHours, days: [], exemptOrganisations: ['Y90001'] },
            manyRecords: { enabled: true, persons: 3, minutes: 15 },
            protectedPersons: { ...base.alerts.protectedPersons, nhsNumbers: [PROTECTED] },
          },
        },
      },
      { clock: fixedClock() },
    );
    const restricted = {
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
    };
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        ...[...PEOPLE, PROTECTED].flatMap((nhs, i) => [
          patient(`al-${i}`, nhs),
          condition(`al-c${i}`, `Patient/al-${i}`, HYPERTENSION),
        ]),
        patient('al-r', RESTRICTED, restricted),
        patient('al-h', HOUSEHOLD, {
          name: [{ family: 'Testperson', given: ['Robin'] }],
          address: [{ line: ['1 Hill Road'], city: 'Leeds', postalCode: 'LS6 2QT' }],
        }),
      ]),
    );
    for (const nhs of [...PEOPLE, PROTECTED, RESTRICTED, HOUSEHOLD]) ids[nhs] = await personIdFor(r, nhs);
    dpo = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dpo.one',
      org: 'Y90001',
      role: 'sharedcare-dpo',
    });
  });
  afterAll(async () => r.drop());

  it('raises nothing for a clinician at the practice opening a patient record in the ordinary way', async () => {
    expect(await open(await as('dr.plain', 'Y90001', 'Dr Pat Green'), PEOPLE[0]!)).toBe(200);
    expect(await rulesFor('dr.plain')).toEqual([]);
  });

  it('raises no-relationship and out-of-hours for a refused attempt, once per window', async () => {
    const token = await as('dr.er', 'RX1');
    expect(await open(token, PEOPLE[0]!)).toBe(403);
    expect(await open(token, PEOPLE[0]!)).toBe(403);
    expect(await rulesFor('dr.er')).toEqual(['no-relationship', 'out-of-hours']);
  });

  it('raises break glass for the grant', async () => {
    const token = await as('dr.glass', 'RX1');
    const res = await r.app.server.inject({
      method: 'POST',
      url: `/fhir/Patient/${ids[PEOPLE[1]!]}/$break-glass`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ reason: 'safeguarding', note: 'police request' }),
    });
    expect(res.statusCode).toBe(200);
    expect(await open(token, PEOPLE[1]!)).toBe(200);
    const rules = await rulesFor('dr.glass');
    expect(rules).toContain('break-glass');
    expect(rules).toContain('no-relationship');
    expect((await alerts()).find((a) => a.rule === 'break-glass')?.summary).toMatch(
      /Safeguarding.*police request/,
    );
  });

  it('raises own-record and same-surname from the name on the token and the names in the record', async () => {
    expect(await open(await as('alex.t', 'Y90001', 'Alex Testperson'), PEOPLE[2]!)).toBe(200);
    expect(await rulesFor('alex.t')).toEqual(['own-record']);
    expect(await open(await as('kim.t', 'Y90001', 'Dr Kim Testperson'), PEOPLE[2]!)).toBe(200);
    expect(await rulesFor('kim.t')).toEqual(['same-surname']);
  });

  it('raises same-surname-address when the identity provider gives the user a home postcode the record shares, and keeps the postcode out of the trail', async () => {
    // the development issuer sends the postcode as OpenID Connect's address claim
    expect(await open(await as('jo.t', 'Y90001', 'Jo Testperson', 'ls6 2qt'), HOUSEHOLD)).toBe(200);
    expect(await rulesFor('jo.t')).toEqual(['same-surname-address']);
    expect(await open(await as('lee.t', 'Y90001', 'Lee Testperson', 'LS1 4AP'), HOUSEHOLD)).toBe(200);
    expect(await rulesFor('lee.t')).toEqual(['same-surname']);
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event::text AS event FROM audit_event WHERE user_id IN ('jo.t', 'lee.t')`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const { event } of rows) expect(event.toUpperCase().replace(/\s/g, '')).not.toMatch(/LS62QT|LS14AP/);
  });

  it('raises protected-person for a person on the list or flagged restricted by a source', async () => {
    const token = await as('dr.prot', 'Y90001');
    expect(await open(token, PROTECTED)).toBe(200);
    expect(await open(token, RESTRICTED)).toBe(200);
    const mine = (await alerts()).filter((a) => a.userId === 'dr.prot' && a.rule === 'protected-person');
    expect(mine.map((a) => a.personId).sort()).toEqual([ids[PROTECTED], ids[RESTRICTED]].sort());
  });

  it('raises many-records when one user opens many different records quickly, once', async () => {
    const token = await as('dr.busy', 'Y90001');
    for (const nhs of PEOPLE) expect(await open(token, nhs)).toBe(200);
    expect(await rulesFor('dr.busy')).toEqual(['many-records']);
  });

  it('puts objection overrides (written by the policy code) on the list', async () => {
    await r.db.transaction((tx) =>
      recordAuditEvent(tx, {
        action: 'objection.override',
        outcome: 'success',
        user: { id: 'dr.safe', org: 'Y90001', role: 'R8000' },
        personId: ids[PEOPLE[3]!],
        detail: 'safeguarding: child protection conference',
      }),
    );
    expect(await rulesFor('dr.safe')).toEqual(['objection-override']);
  });

  it('lets the DPO mark an alert reviewed with a note, once', async () => {
    const target = (await alerts()).find((a) => a.userId === 'dr.er')!;
    const review = (note: unknown) =>
      r.app.server.inject({
        method: 'POST',
        url: `/dpo/alerts/${target.id}/review`,
        headers: { authorization: `Bearer ${dpo}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ note }),
      });
    expect((await review('   ')).statusCode).toBe(400);
    const ok = await review('Spoke to the ward manager: wrong patient selected, no data seen.');
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({
      status: 'reviewed',
      reviewedBy: 'dpo.one',
      reviewNote: /wrong patient/,
    });
    expect((await review('again')).statusCode).toBe(409);
    expect((await alerts()).map((a) => a.id)).not.toContain(target.id);
    expect((await alerts('reviewed')).map((a) => a.id)).toContain(target.id);
    const clinician = await getAs<OperationOutcome>(r, await as('dr.er', 'RX1'), '/dpo/alerts');
    expect(clinician.status).toBe(403);
  });
});
