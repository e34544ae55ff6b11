/**
 * Identity administration: the review queue (side by side, link, keep apart, remembered), the
 * notice on a record with pairs waiting, an administrator's split, and a source's own merge
 * (FHIR link replaced-by) and its undoing. Items always move with their source record, audited.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION } from './fhir-data.ts';
import { everything, personIdFor, postFhir } from './http.ts';
import { patientOf, someone } from './identity-data.ts';

const personOf = async (r: TestRegion, source: string, local: string): Promise<string> =>
  (
    await r.db.query<{ p: string }>(
      'SELECT person_id AS p FROM person_link WHERE source_id = $1 AND local_id = $2',
      [source, local],
    )
  ).rows[0]!.p;

async function admin(r: TestRegion, method: 'GET' | 'POST', url: string, body?: unknown, token?: string) {
  const res = await r.app.server.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token ?? (await r.adminToken())}` },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> & unknown[] };
}

const noticeCodes = (b: { entry?: { search?: { mode?: string }; resource?: unknown }[] }) =>
  (b.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome).issue.map(
    (i) => i.details?.coding?.[0]?.code,
  );

const auditCount = async (r: TestRegion, action: string) =>
  (await r.db.query('SELECT 1 FROM audit_event WHERE action = $1', [action])).rows.length;

/** A GP record with an NHS number, and a hospital record that only moved house: a review pair. */
async function reviewPair(r: TestRegion, n: number, nhs: string) {
  const who = someone(n);
  await postFhir(r, 'gp-riverside', bundle('batch', [patientOf(`gp-${n}`, who, nhs)]));
  const moved = { ...who, postcode: 'ND8 1AA', line: '2 Low Green', phone: '01632 960999' };
  await postFhir(
    r,
    'northgate-pas',
    bundle('batch', [patientOf(`mrn-${n}`, moved), condition(`c-${n}`, `Patient/mrn-${n}`, HYPERTENSION)]),
  );
  const list = (await admin(r, 'GET', '/admin/identity/review')).body as unknown as {
    id: string;
    record: { localId: string; name: string };
    candidate: { localId: string; name: string };
  }[];
  return { who, pair: list.find((p) => p.record.localId === `mrn-${n}`)! };
}

describe.each(DB_KINDS)('identity administration on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r?.drop());

  it('shows a pair side by side, warns the reader, and links it: the items move, audited', async () => {
    const { pair } = await reviewPair(r, 30, '9990000018');
    expect(pair.candidate.localId).toBe('gp-30');
    expect(pair.record.name).toBe(pair.candidate.name);
    const person = await personIdFor(r, '9990000018');
    const before = await everything(r, person);
    expect(noticeCodes(before.bundle)).toContain('identity-review');
    expect(before.items).toHaveLength(0); // the candidate's items are not shown before the decision
    const links = await auditCount(r, 'identity.link');
    const res = await admin(r, 'POST', `/admin/identity/review/${pair.id}`, { decision: 'link' });
    expect(res.status).toBe(200);
    expect(await personOf(r, 'northgate-pas', 'mrn-30')).toBe(person);
    const after = await everything(r, person);
    expect(after.items.map((i) => i.resourceType)).toEqual(['Condition']);
    expect(noticeCodes(after.bundle)).not.toContain('identity-review');
    expect(await auditCount(r, 'identity.link')).toBe(links + 1);
    expect(await auditCount(r, 'identity.review')).toBeGreaterThanOrEqual(2); // the read and the decision
  });

  it('keeps a pair apart and remembers it when the record comes again', async () => {
    const { who, pair } = await reviewPair(r, 31, '9990000026');
    expect((await admin(r, 'POST', `/admin/identity/review/${pair.id}`, { decision: 'apart' })).status).toBe(
      200,
    );
    // the hospital record now matches its GP record fully, but the administrator said otherwise
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-31', who)]));
    expect(await personOf(r, 'northgate-pas', 'mrn-31')).not.toBe(await personIdFor(r, '9990000026'));
    expect(noticeCodes((await everything(r, await personIdFor(r, '9990000026'))).bundle)).not.toContain(
      'identity-review',
    );
  });

  it('splits a wrongly linked person: the record and its items leave, and stay apart', async () => {
    const who = someone(32);
    await postFhir(r, 'gp-riverside', bundle('batch', [patientOf('gp-32', who, '9990000034')]));
    await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [patientOf('mrn-32', who), condition('c-32', 'Patient/mrn-32', HYPERTENSION)]),
    );
    const person = await personIdFor(r, '9990000034');
    expect(await personOf(r, 'northgate-pas', 'mrn-32')).toBe(person);
    const split = await admin(r, 'POST', '/admin/identity/split', {
      personId: person,
      records: [{ sourceId: 'northgate-pas', localId: 'mrn-32' }],
    });
    expect(split.status).toBe(200);
    const other = split.body.personId as string;
    expect(await personOf(r, 'northgate-pas', 'mrn-32')).toBe(other);
    expect((await everything(r, person)).items).toHaveLength(0);
    const { rows } = await r.db.query<{ p: string }>(
      `SELECT person_id AS p FROM clinical_item WHERE source_id = 'northgate-pas' AND source_patient_id = 'mrn-32'`,
    );
    expect(rows.map((x) => x.p)).toEqual([other]);
    await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [patientOf('mrn-32', { ...who, phone: '01632 960000' })]),
    );
    expect(await personOf(r, 'northgate-pas', 'mrn-32')).toBe(other);
  });

  it("refuses a split that would take the person's own NHS number, or names no records, changing nothing", async () => {
    const person = await personIdFor(r, '9990000034');
    const own = await admin(r, 'POST', '/admin/identity/split', {
      personId: person,
      records: [{ sourceId: 'gp-riverside', localId: 'gp-32' }],
    });
    expect(own.status).toBe(400);
    expect((await admin(r, 'POST', '/admin/identity/split', { personId: person, records: [] })).status).toBe(
      400,
    );
    expect((await admin(r, 'POST', '/admin/identity/review/nope', { decision: 'maybe' })).status).toBe(400);
    expect(await personOf(r, 'gp-riverside', 'gp-32')).toBe(person);
    const clinician = await r.userToken('dr', 'Y90001');
    expect((await admin(r, 'GET', '/admin/identity/review', undefined, clinician)).status).toBe(403);
  });

  it("follows a source's merge (Patient.link replaced-by) and its undoing, items and all", async () => {
    const a = someone(33);
    const b = someone(34);
    await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [
        patientOf('mrn-33', a),
        condition('c-33', 'Patient/mrn-33', HYPERTENSION),
        patientOf('mrn-34', b),
      ]),
    );
    const personA = await personOf(r, 'northgate-pas', 'mrn-33');
    const personB = await personOf(r, 'northgate-pas', 'mrn-34');
    const merged = patientOf('mrn-33', a, undefined, {
      link: [{ other: { reference: 'Patient/mrn-34' }, type: 'replaced-by' }],
    });
    await postFhir(r, 'northgate-pas', bundle('batch', [merged]));
    expect(await personOf(r, 'northgate-pas', 'mrn-33')).toBe(personB);
    const where = async () =>
      (
        await r.db.query<{ p: string }>(
          `SELECT person_id AS p FROM clinical_item WHERE source_id = 'northgate-pas' AND source_patient_id = 'mrn-33'`,
        )
      ).rows.map((x) => x.p);
    expect(await where()).toEqual([personB]);
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-33', { ...a, line: '1 Oak Road' })]));
    expect(await personOf(r, 'northgate-pas', 'mrn-33')).toBe(personA);
    expect(await where()).toEqual([personA]);
  });
});
