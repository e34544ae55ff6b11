/**
 * Every read path writes exactly the events it should (and nothing else), each event carries the
 * fields the issue names, and when the audit write fails the caller gets an error and no data.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { fixedClock, DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HIV, HYPERTENSION, NHS_A, observation, patient } from './fhir-data.ts';
import { count, getAs, personIdFor, postFhir } from './http.ts';

interface Ev {
  action: string;
  outcome: string;
  person_id: string | null;
  e: Record<string, unknown>;
}

describe.each(DB_KINDS)('what each read path writes to the audit trail on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  let dpo: string;
  beforeAll(async () => {
    r = await startRegion(kind, {}, { clock: fixedClock() });
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('ar-1', NHS_A),
        condition('ar-c', 'Patient/ar-1', HYPERTENSION),
        observation('ar-o', 'Patient/ar-1', 50),
        condition('ar-hiv', 'Patient/ar-1', HIV),
        {
          resourceType: 'DocumentReference',
          id: 'ar-doc',
          status: 'current',
          type: {
            coding: [{ system: 'http://snomed.info/sct', code: '373942005', display: 'Discharge summary' }],
          },
          subject: { reference: 'Patient/ar-1' },
          date: '2024-05-02T10:00:00Z',
          content: [{ attachment: { contentType: 'text/plain', data: 'RGlzY2hhcmdlZCB3ZWxs' } }],
        } as never,
      ]),
    );
    personId = await personIdFor(r, NHS_A);
    dpo = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dpo.one',
      org: 'Y90001',
      role: 'sharedcare-dpo',
    });
  });
  afterAll(async () => r.drop());

  const last = async () =>
    (await r.db.query<{ s: string }>('SELECT coalesce(max(seq), 0)::text AS s FROM audit_event')).rows[0]!.s;
  async function since(seq: string): Promise<Ev[]> {
    const { rows } = await r.db.query<Omit<Ev, 'e'> & { event: string }>(
      `SELECT action, outcome, person_id::text AS person_id, event FROM audit_event WHERE seq > $1 AND action <> 'audit.alert' ORDER BY seq`,
      [seq],
    );
    return rows.map(({ event, ...x }) => ({ ...x, e: JSON.parse(event) as Record<string, unknown> }));
  }
  /** Runs `fn` and returns the events it wrote. */
  async function wrote(fn: () => Promise<unknown>): Promise<Ev[]> {
    const before = await last();
    await fn();
    return since(before);
  }
  /** Sharedcare's id of an item, by the id its source gave it */
  const idOf = async (local: string) =>
    (
      await r.db.query<{ id: string }>(
        'SELECT id::text AS id FROM clinical_item WHERE source_local_id = $1',
        [local],
      )
    ).rows[0]!.id;
  const as = (user: string, org: string, role = 'R8000', name?: string) =>
    mintUserToken(r.config.devIssuerSecret!, { user, org, role, ...(name ? { name } : {}) });

  it('a record open writes one record.open: who, role, organisation, whose record, what was returned, basis', async () => {
    const token = await as('dr.gp', 'Y90001', 'R8000', 'Dr Pat Green');
    let n = 0;
    const events = await wrote(async () => {
      const res = await getAs(r, token, `/fhir/Patient/${personId}/$everything`);
      n = (res.body as { entry?: unknown[] }).entry?.length ?? 0;
    });
    expect(events.map((x) => [x.action, x.outcome, x.person_id])).toEqual([
      ['record.open', 'success', personId],
    ]);
    expect(events[0]!.e).toMatchObject({
      user: { id: 'dr.gp', org: 'Y90001', role: 'R8000', name: 'Dr Pat Green' },
      personId,
      query: 'Patient/{id}/$everything',
      basis: expect.any(String),
      reasons: expect.any(Array),
      returned: { count: expect.any(Number), digest: expect.stringMatching(/^[0-9a-f]{64}$/) },
      at: expect.any(String),
    });
    expect((events[0]!.e.returned as { count: number }).count).toBe(n - 1); // less the notices entry
  });

  it('a section search writes one record.search naming the section and the filter, not the patient', async () => {
    const none = await wrote(() => r.app.server.inject({ url: `/fhir/Observation?patient=${personId}` }));
    // an unauthenticated request reaches no record: it is recorded as refused, naming no one
    expect(none.map((x) => [x.action, x.person_id, x.e.query, x.e.reasons])).toEqual([
      ['request.refused', null, 'GET /fhir/:type', ['no-token']],
    ]);
    const token = await as('dr.gp', 'Y90001');
    const ev = await wrote(() => getAs(r, token, `/fhir/Observation?patient=${personId}&date=ge2020-01-01`));
    expect(ev.map((x) => x.action)).toEqual(['record.search']);
    expect(String(ev[0]!.e.query)).toMatch(/^Observation/);
    expect(String(ev[0]!.e.query)).not.toContain(personId);
  });

  it('a document view writes one document.view; a read of one item writes one record.search', async () => {
    const token = await as('dr.gp', 'Y90001');
    const doc = await idOf('ar-doc');
    let res: Awaited<ReturnType<typeof getAs>> | undefined;
    const ev = await wrote(async () => (res = await getAs(r, token, `/fhir/DocumentReference/${doc}`)));
    expect(res!.status).toBe(200);
    expect(res!.body).toMatchObject({ resourceType: 'DocumentReference', id: doc });
    expect(ev.map((x) => [x.action, x.outcome, x.person_id])).toEqual([
      ['document.view', 'success', personId],
    ]);
    expect(ev[0]!.e).toMatchObject({ query: 'DocumentReference/{id}', returned: { count: 1 } });
    expect(JSON.stringify(ev[0]!.e)).not.toContain(doc); // a digest of what was returned, never the id

    const obs = await idOf('ar-o');
    const read = await wrote(() => getAs(r, token, `/fhir/Observation/${obs}`));
    expect(read.map((x) => [x.action, x.outcome, x.e.query])).toEqual([
      ['record.search', 'success', 'Observation/{id}'],
    ]);
  });

  it('a withheld item reads as one that does not exist, and the attempt is audited', async () => {
    const token = await as('dr.gp', 'Y90001');
    const hiv = await idOf('ar-hiv');
    const withheld = await getAs<OperationOutcome>(r, token, `/fhir/Condition/${hiv}`);
    const missing = await getAs<OperationOutcome>(
      r,
      token,
      '/fhir/Condition/00000000-0000-4000-8000-00000000abcd',
    );
    expect([withheld.status, missing.status]).toEqual([404, 404]);
    expect(withheld.body.issue[0]!.diagnostics).toBe(missing.body.issue[0]!.diagnostics);
    expect(JSON.stringify(withheld.body)).not.toMatch(/HIV|86406008|immunodeficiency/i);
    const ev = await wrote(() => getAs(r, token, `/fhir/Condition/${hiv}`));
    expect(ev.map((x) => [x.action, x.outcome, x.person_id])).toEqual([['record.search', 'error', personId]]);
    expect(ev[0]!.e.reasons).toEqual(expect.arrayContaining(['not-found', 'withheld-sensitive']));
    expect(ev[0]!.e).toMatchObject({ returned: { count: 0 } });
    // a clinician with no relationship to the person learns nothing either, and the attempt is a refusal
    const stranger = await as('dr.stranger', 'RX1');
    const theirs = await wrote(async () => {
      const res = await getAs<OperationOutcome>(r, stranger, `/fhir/Condition/${hiv}`);
      expect([res.status, res.body.issue[0]!.diagnostics]).toEqual([404, missing.body.issue[0]!.diagnostics]);
    });
    expect(theirs.map((x) => [x.action, x.outcome, x.e.reasons])).toEqual([
      ['access.refused', 'refused', ['no-relationship']],
    ]);
    // a type this server does not hold, or an id that is not one of ours, names nothing
    expect((await getAs(r, token, `/fhir/Medication/${hiv}`)).status).toBe(404);
    expect((await getAs(r, token, '/fhir/Condition/not-an-id')).status).toBe(404);
  });

  it('a patient search writes one patient.search', async () => {
    const token = await as('dr.gp', 'Y90001');
    const ev = await wrote(() =>
      getAs(r, token, `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS_A}`),
    );
    expect(ev.map((x) => [x.action, x.person_id])).toEqual([['patient.search', personId]]);
  });

  it('a refusal writes one access.refused with the reason', async () => {
    const token = await as('lab.user', 'LAB01');
    const ev = await wrote(() => getAs(r, token, `/fhir/Patient/${personId}/$everything`));
    expect(ev.map((x) => [x.action, x.outcome, x.e.reasons])).toEqual([
      ['access.refused', 'refused', ['org-not-viewing']],
    ]);
  });

  it('break glass writes one break-glass; the open under it says so; both raise alerts', async () => {
    const token = await as('dr.er', 'RX1');
    const refused = await wrote(() => getAs(r, token, `/fhir/Patient/${personId}/$everything`));
    expect(refused.map((x) => [x.action, x.e.reasons])).toEqual([['access.refused', ['no-relationship']]]);
    const glass = await wrote(() =>
      r.app.server.inject({
        method: 'POST',
        url: `/fhir/Patient/${personId}/$break-glass`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ reason: 'emergency-care', note: 'collapsed' }),
      }),
    );
    expect(glass.map((x) => [x.action, x.e.reasons])).toEqual([
      ['break-glass', ['break-glass', 'emergency-care']],
    ]);
    const open = await wrote(() => getAs(r, token, `/fhir/Patient/${personId}/$everything`));
    expect(open.map((x) => [x.action, x.e.basis])).toEqual([['record.open', 'break-glass']]);
    const { rows } = await r.db.query<{ rule: string }>(
      `SELECT rule FROM audit_alert WHERE user_id = 'dr.er' ORDER BY created_at, rule`,
    );
    expect(rows.map((x) => x.rule)).toEqual(expect.arrayContaining(['no-relationship', 'break-glass']));
  });

  it('a DPO report run, an alert listing and an alert review each write one event about the trail', async () => {
    const report = await wrote(() => getAs(r, dpo, `/dpo/access-report?person=${NHS_A}`));
    expect(report.map((x) => [x.action, x.person_id])).toEqual([['audit.report', personId]]);
    expect(report[0]!.e).toMatchObject({
      user: { id: 'dpo.one', role: 'sharedcare-dpo' },
      returned: { count: expect.any(Number) },
    });
    let alerts: { id: string }[] = [];
    const listing = await wrote(
      async () => (alerts = (await getAs<{ id: string }[]>(r, dpo, '/dpo/alerts')).body),
    );
    expect(listing.map((x) => x.action)).toEqual(['audit.alerts']);
    const review = await wrote(() =>
      r.app.server.inject({
        method: 'POST',
        url: `/dpo/alerts/${alerts[0]!.id}/review`,
        headers: { authorization: `Bearer ${dpo}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ note: 'checked with the emergency department: genuine' }),
      }),
    );
    expect(review.map((x) => x.action)).toEqual(['audit.alert-review']);
    expect(String(review[0]!.e.detail)).toMatch(/genuine/);
  });

  describe('when the audit write fails', () => {
    const broken = async (table: string, fn: () => Promise<void>) => {
      await r.db.exec(`ALTER TABLE ${table} ADD CONSTRAINT audit_unwritable CHECK (false) NOT VALID`);
      try {
        await fn();
      } finally {
        await r.db.exec(`ALTER TABLE ${table} DROP CONSTRAINT audit_unwritable`);
      }
    };

    it('every read returns an error and no data', async () => {
      const token = await as('dr.gp', 'Y90001');
      const doc = await idOf('ar-doc');
      await broken('audit_event', async () => {
        for (const url of [
          `/fhir/Patient/${personId}/$everything`,
          `/fhir/Patient/${personId}`,
          `/fhir/Condition?patient=${personId}`,
          `/fhir/DocumentReference/${doc}`,
          `/fhir/Consent?patient=${personId}`,
          `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS_A}`,
          `/dpo/access-report?person=${NHS_A}`,
          `/dpo/subject-access-report?person=${NHS_A}`,
          '/dpo/alerts',
        ]) {
          const res = await getAs<OperationOutcome>(r, url.startsWith('/dpo') ? dpo : token, url);
          expect(res.status, url).toBe(503);
          expect(res.body.resourceType).toBe('OperationOutcome');
          expect(res.text).not.toContain('Testperson');
          expect(res.text).not.toContain('Discharge');
          expect(res.text).not.toContain('record.open');
        }
      });
    });

    it('an administrator’s read of a queue or register returns 503 and nothing', async () => {
      const admin = await r.adminToken();
      await broken('audit_event', async () => {
        for (const url of [
          '/admin/sensitivity/review?status=all',
          `/admin/objections?nhs=${NHS_A}`,
          `/admin/opt-out?nhs=${NHS_A}`,
          '/admin/identity/review',
        ]) {
          const res = await getAs(r, admin, url);
          expect(res.status, url).toBe(503);
          expect(res.text, url).not.toContain(personId);
          expect(res.text, url).not.toContain(NHS_A);
        }
      });
    });

    it('a break glass whose audit or alert cannot be written is not granted', async () => {
      const token = await as('dr.other', 'RX1');
      const grants = await count(r, 'break_glass');
      for (const table of ['audit_event', 'audit_alert'])
        await broken(table, async () => {
          const res = await r.app.server.inject({
            method: 'POST',
            url: `/fhir/Patient/${personId}/$break-glass`,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            payload: JSON.stringify({ reason: 'emergency-care' }),
          });
          expect(res.statusCode, table).toBe(503);
        });
      expect(await count(r, 'break_glass')).toBe(grants);
      expect((await getAs(r, token, `/fhir/Patient/${personId}/$everything`)).status).toBe(403);
    });
  });
});
