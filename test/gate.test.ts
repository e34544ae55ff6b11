import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, observation, patient } from './fhir-data.ts';
import { count, everything, getAs, personIdFor, postFhir } from './http.ts';

const SNOMED = 'http://snomed.info/sct';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';

interface AuditRow {
  action: string;
  outcome: string;
  user_id: string;
  person_id: string | null;
  event: string;
}

async function auditSince(
  r: TestRegion,
  seq: number,
): Promise<(AuditRow & { parsed: Record<string, unknown> })[]> {
  const { rows } = await r.db.query<AuditRow>(
    `SELECT action, outcome, user_id, person_id::text AS person_id, event FROM audit_event WHERE seq > $1 AND action <> 'audit.alert' ORDER BY seq`,
    [seq],
  );
  return rows.map((row) => ({ ...row, parsed: JSON.parse(row.event) as Record<string, unknown> }));
}

async function lastSeq(r: TestRegion): Promise<number> {
  const { rows } = await r.db.query<{ s: number }>('SELECT coalesce(max(seq), 0)::int AS s FROM audit_event');
  return rows[0]!.s;
}

const SENSITIVE: [string, Record<string, unknown>][] = [
  ['HIV (SNOMED)', { code: { coding: [{ system: SNOMED, code: '86406008' }] } }],
  ['HIV (ICD-10 with a sub-code)', { code: { coding: [{ system: ICD10, code: 'B20.1' }] } }],
  ['sexually transmitted infection (SNOMED)', { code: { coding: [{ system: SNOMED, code: '105629000' }] } }],
  [
    'sexually transmitted infection (ICD-10 A56.0, no dot: A560)',
    { code: { coding: [{ system: ICD10, code: 'A560' }] } },
  ],
  ['IVF / assisted fertilisation', { code: { coding: [{ system: SNOMED, code: '52637005' }] } }],
  ['gender reassignment', { code: { coding: [{ system: SNOMED, code: '407374003' }] } }],
  ['termination of pregnancy', { code: { coding: [{ system: SNOMED, code: '714812005' }] } }],
  [
    'a sensitive reason on an otherwise ordinary item',
    {
      code: { coding: [{ system: SNOMED, code: '38341003' }] },
      evidence: [{ code: [{ coding: [{ system: SNOMED, code: '86406008' }] }] }],
    },
  ],
  [
    'a source security label: very restricted',
    {
      code: { coding: [{ system: SNOMED, code: '38341003' }] },
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'V' }] },
    },
  ],
  [
    'a source sensitivity label: HIV',
    {
      code: { coding: [{ system: SNOMED, code: '38341003' }] },
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] },
    },
  ],
];

describe.each(DB_KINDS)('the gate on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  const NHS = '9990000123';

  beforeAll(async () => {
    r = await startRegion(kind);
    // One person known to the GP and the hospital under different local ids.
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('gp-1', NHS),
        condition('gp-c1', 'Patient/gp-1', HYPERTENSION),
        observation('gp-o1', 'Patient/gp-1', 48),
      ]),
    );
    await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [
        patient('MRN001', NHS, { name: [{ family: 'Testperson', given: ['Alexandra'] }] }),
        observation('lab-1', 'Patient/MRN001', 51, '2023-05-05'),
      ]),
    );
    personId = await personIdFor(r, NHS);
  });
  afterAll(async () => r.drop());

  it('links records from several sources to one person, and every item says where it came from', async () => {
    const { status, items, bundle: b } = await everything(r, personId);
    expect(status).toBe(200);
    expect(items).toHaveLength(3);
    const orgs = items
      .map((i) => i.meta?.tag?.find((t) => t.system === 'https://fhir.nhs.uk/Id/ods-organization-code')?.code)
      .sort();
    expect(orgs).toEqual(['RX1', 'Y90001', 'Y90001']);
    for (const item of items) {
      expect(item.meta?.source).toMatch(/^urn:sharedcare:source:(gp-riverside|northgate-pas)$/);
      const prov = (item as { extension?: { url: string; extension?: { url: string }[] }[] }).extension?.find(
        (e) => e.url.endsWith('/provenance'),
      );
      expect(prov?.extension?.map((e) => e.url)).toEqual(
        expect.arrayContaining(['organisation', 'sourceSystem', 'sourceId', 'received']),
      );
    }
    const p = b.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    const sources = p.extension
      ?.filter((e) => e.url.endsWith('/source-record'))
      .map((e) => e.extension?.find((x) => x.url === 'source')?.valueString);
    expect(sources?.sort()).toEqual(['gp-riverside', 'northgate-pas']);
    expect(p.identifier?.map((i) => i.value)).toEqual(expect.arrayContaining([NHS, 'gp-1', 'MRN001']));
    const notice = b.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome;
    expect(notice.issue[0]?.diagnostics).toMatch(/not the full record/);
  });

  it('keeps a patient without a valid NHS number as an unverified person of their own', async () => {
    await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [patient('MRN-NONHS', undefined), patient('MRN-BADNHS', '9990000124')]),
    );
    const { rows } = await r.db.query<{ verified: boolean; nhs_number: string | null }>(
      `SELECT p.verified, p.nhs_number FROM person p JOIN person_link l ON l.person_id = p.id WHERE l.local_id IN ('MRN-NONHS', 'MRN-BADNHS')`,
    );
    expect(rows).toHaveLength(2);
    expect(rows.every((x) => !x.verified && x.nhs_number === null)).toBe(true);
    const token = await r.userToken('dr', 'Y90001');
    const search = await getAs<Bundle>(
      r,
      token,
      '/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000124',
    );
    expect(search.status).toBe(400); // fails the modulus-11 check
  });

  it('answers a search by an unknown NHS number with an empty searchset', async () => {
    const res = await getAs<Bundle>(
      r,
      await r.userToken('dr', 'Y90001'),
      '/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000131',
    );
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(0);
    const found = await getAs<Bundle>(
      r,
      await r.userToken('dr', 'Y90001'),
      `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`,
    );
    expect(found.body.total).toBe(1);
    expect(found.body.entry?.[0]?.search?.mode).toBe('match');
    expect(found.body.entry?.[0]?.resource?.id).toBe(personId);
  });

  it('searches one section of the record with filters', async () => {
    const token = await r.userToken('dr', 'Y90001');
    const all = await getAs<Bundle>(r, token, `/fhir/Observation?patient=${personId}`);
    expect(all.body.entry?.filter((e) => e.search?.mode === 'match')).toHaveLength(2);
    const recent = await getAs<Bundle>(r, token, `/fhir/Observation?patient=${personId}&date=ge2023-01-01`);
    expect(
      recent.body.entry
        ?.filter((e) => e.search?.mode === 'match')
        .map((e) => (e.resource as { effectiveDateTime?: string }).effectiveDateTime),
    ).toEqual(['2023-05-05']);
    expect((await getAs(r, token, `/fhir/Observation?patient=${personId}&date=yesterday`)).status).toBe(400);
    expect((await getAs(r, token, `/fhir/Observation`)).status).toBe(400);
    expect((await getAs(r, token, `/fhir/Claim?patient=${personId}`)).status).toBe(404);
  });

  it('refuses a user from an organisation that only contributes, with no clinical data, and audits the refusal', async () => {
    const seq = await lastSeq(r);
    const token = await r.userToken('lab.user', 'LAB01');
    for (const url of [
      `/fhir/Patient/${personId}/$everything`,
      `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`,
      `/fhir/Condition?patient=${personId}`,
    ]) {
      const res = await getAs<OperationOutcome>(r, token, url);
      expect(res.status).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0]?.diagnostics).toMatch(/contributes data but does not view/);
      expect(res.text).not.toContain('Testperson');
      expect(res.text).not.toContain(NHS);
    }
    const events = await auditSince(r, seq);
    expect(events.map((e) => [e.action, e.outcome, e.user_id])).toEqual(
      Array(3).fill(['access.refused', 'refused', 'lab.user']),
    );
  });

  it('refuses an organisation that is not part of the region, and a request with no token', async () => {
    expect(
      (await getAs(r, await r.userToken('x', 'ZZZ99'), `/fhir/Patient/${personId}/$everything`)).status,
    ).toBe(403);
    const res = await r.app.server.inject({ url: `/fhir/Patient/${personId}/$everything` });
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).resourceType).toBe('OperationOutcome');
  });

  it('writes an audit event for every read: who, role, organisation, whose record, what was returned', async () => {
    const seq = await lastSeq(r);
    const token = await r.userToken('dr.audit', 'Y90001', 'R8000');
    const { items } = await everything(r, personId, token);
    await getAs(r, token, `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`);
    await getAs(r, token, `/fhir/Condition?patient=${personId}`);
    const events = await auditSince(r, seq);
    expect(events.map((e) => e.action)).toEqual(['record.open', 'patient.search', 'record.search']);
    for (const e of events) {
      expect(e.outcome).toBe('success');
      expect(e.person_id).toBe(personId);
      expect(e.parsed.user).toMatchObject({ id: 'dr.audit', org: 'Y90001', role: 'R8000' });
      expect(typeof e.parsed.at).toBe('string');
    }
    expect(events[0]!.parsed.returned).toMatchObject({ count: items.length + 1 });
    expect(events[2]!.parsed.returned).toMatchObject({ count: 1 });
  });

  it('fails closed: if the audit event cannot be written, the caller gets an error and no data', async () => {
    await r.db.exec('ALTER TABLE audit_event ADD CONSTRAINT audit_unwritable CHECK (false) NOT VALID');
    try {
      const token = await r.userToken('dr', 'Y90001');
      for (const url of [
        `/fhir/Patient/${personId}/$everything`,
        `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`,
        `/fhir/Observation?patient=${personId}`,
      ]) {
        const res = await getAs<OperationOutcome>(r, token, url);
        expect(res.status).toBe(503);
        expect(res.body.resourceType).toBe('OperationOutcome');
        expect(res.text).not.toContain('Testperson');
        expect(res.text).not.toContain('mmol');
      }
    } finally {
      await r.db.exec('ALTER TABLE audit_event DROP CONSTRAINT audit_unwritable');
    }
    expect((await everything(r, personId)).status).toBe(200);
  });

  it.each(SENSITIVE)('never returns an item revealing %s', async (_label, fields) => {
    const nhs = '9990000158';
    const local = 'sens-p';
    const sensitive = {
      resourceType: 'Condition',
      id: `sens-${_label.replace(/\W+/g, '-')}`,
      subject: { reference: `Patient/${local}` },
      ...fields,
    } as Resource;
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient(local, nhs),
        condition('sens-ok', `Patient/${local}`, HYPERTENSION),
        sensitive,
      ]),
    );
    const id = await personIdFor(r, nhs);
    const { items } = await everything(r, id);
    expect(items.map((i) => i.id)).not.toContain(undefined);
    expect(items).toHaveLength(1);
    expect(items[0]!.meta?.source).toBe('urn:sharedcare:source:gp-riverside');
    const search = await getAs<Bundle>(r, await r.userToken('dr', 'Y90001'), `/fhir/Condition?patient=${id}`);
    expect(search.body.entry?.filter((e) => e.search?.mode === 'match')).toHaveLength(1);
  });

  it('withholds everything but the fact of the record when the person objects to sharing it', async () => {
    const nhs = '9990000166';
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('obj', nhs), condition('obj-c', 'Patient/obj', HYPERTENSION)]),
    );
    const id = await personIdFor(r, nhs);
    const admin = await r.adminToken();
    const add = await r.app.server.inject({
      method: 'POST',
      url: '/admin/objections',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: { nhs },
    });
    expect(add.statusCode).toBe(201);
    const { items, bundle: b } = await everything(r, id);
    expect(items).toHaveLength(0);
    const p = b.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    expect(p.name).toBeUndefined();
    expect(p.birthDate).toBeUndefined();
    const notices = (b.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome).issue;
    expect(
      notices.some(
        (i) => i.code === 'suppressed' && /objected to sharing their record/.test(i.diagnostics ?? ''),
      ),
    ).toBe(true);
    const search = await getAs<Bundle>(
      r,
      await r.userToken('dr', 'Y90001'),
      `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`,
    );
    expect(JSON.stringify(search.body)).not.toContain('Testperson');

    const objectionId = JSON.parse(add.body).id as string;
    await r.app.server.inject({
      method: 'POST',
      url: `/admin/objections/${objectionId}/withdraw`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect((await everything(r, id)).items).toHaveLength(1);
  });

  it('honours an objection to one organisation sharing', async () => {
    const admin = await r.adminToken();
    const add = await r.app.server.inject({
      method: 'POST',
      url: '/admin/objections',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: { nhs: NHS, scope: 'organisation', target: 'Y90001' },
    });
    expect(add.statusCode).toBe(201);
    const { items } = await everything(r, personId);
    expect(items.map((i) => i.meta?.tag?.[0]?.code)).toEqual(['RX1']);
    await r.app.server.inject({
      method: 'POST',
      url: `/admin/objections/${JSON.parse(add.body).id}/withdraw`,
      headers: { authorization: `Bearer ${admin}` },
    });
  });

  it('keeps clinical data out of the admin API for non-admin roles', async () => {
    const res = await r.app.server.inject({
      url: '/admin/objections?nhs=' + NHS,
      headers: { authorization: `Bearer ${await r.userToken('dr', 'Y90001')}` },
    });
    expect(res.statusCode).toBe(403);
    expect(await count(r, 'objection')).toBeGreaterThan(0);
  });
});
