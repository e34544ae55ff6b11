/**
 * GET /fhir/Patient/{id}/$reconciled through the gate, on PGlite and PostgreSQL: one letter the GP
 * and the hospital both hold appears once with both sources; an allergy the hospital refuted is a
 * conflict; every item keeps its own entry and gets a Provenance; the answer says how current each
 * source is; what the policy withholds neither appears as a source nor causes a conflict; the read
 * is audited like a record open.
 */
import { validateResource } from '@medplum/core';
import type { Bundle, Extension, List, Provenance, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken, DPO_ROLE } from '../src/access/index.ts';
import { loadFhirDefinitions } from '../src/fhir/index.ts';
import { bundle, patient } from './fhir-data.ts';
import { getAs, personIdFor, postFhir } from './http.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

const NHS = '9990000034';
const SNOMED = 'http://snomed.info/sct';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const HOSPITAL_REF = { identifier: { system: ODS, value: 'RX1' }, display: 'Northgate Hospital' };

const allergy = (id: string, ref: string, verification: string) => ({
  resourceType: 'AllergyIntolerance',
  id,
  patient: { reference: ref },
  code: { coding: [{ system: SNOMED, code: '764146007', display: 'Penicillin' }] },
  verificationStatus: {
    coding: [
      { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: verification },
    ],
  },
  recordedDate: verification === 'refuted' ? '2026-06-01' : '2019-02-03',
});
const letter = (id: string, ref: string) => ({
  resourceType: 'DocumentReference',
  id,
  status: 'current',
  type: { coding: [{ system: SNOMED, code: '823691000000103', display: 'Clinic letter' }] },
  subject: { reference: ref },
  date: '2026-03-10T14:00:00Z',
  author: [HOSPITAL_REF],
  description: 'Endocrinology clinic letter',
  content: [
    { attachment: { contentType: 'text/plain', data: Buffer.from('Seen in clinic.').toString('base64') } },
  ],
});
const medicine = (type: string, id: string, ref: string, dose: string) => ({
  resourceType: type,
  id,
  status: 'active',
  ...(type === 'MedicationRequest'
    ? { intent: 'order', authoredOn: '2026-05-01' }
    : { dateAsserted: '2026-04-01' }),
  medicationCodeableConcept: {
    coding: [{ system: 'https://dmd.nhs.uk', code: '322236009', display: 'Metformin 500mg tablets' }],
  },
  subject: { reference: ref },
  [type === 'MedicationRequest' ? 'dosageInstruction' : 'dosage']: [{ text: dose }],
});
const hiv = (id: string, ref: string, status: string) => ({
  resourceType: 'Condition',
  id,
  clinicalStatus: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: status }],
  },
  code: { coding: [{ system: SNOMED, code: '86406008' }] },
  subject: { reference: ref },
});

describe.each(DB_KINDS)('$reconciled on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  let gpToken: string;
  const url = () => `/fhir/Patient/${personId}/$reconciled`;

  beforeAll(async () => {
    r = await startRegion(kind);
    gpToken = await r.userToken('dr.gp', 'Y90001');
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('gp-1', NHS),
        allergy('gp-a1', 'Patient/gp-1', 'confirmed') as Resource,
        letter('gp-d1', 'Patient/gp-1') as Resource,
        medicine('MedicationStatement', 'gp-m1', 'Patient/gp-1', '1 tablet twice a day') as Resource,
        hiv('gp-h1', 'Patient/gp-1', 'active') as Resource,
      ]),
    );
    await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [
        patient('MRN1', NHS),
        allergy('h-a1', 'Patient/MRN1', 'refuted') as Resource,
        letter('h-d1', 'Patient/MRN1') as Resource,
        medicine('MedicationRequest', 'h-m1', 'Patient/MRN1', '2 tablets twice a day') as Resource,
        hiv('h-h1', 'Patient/MRN1', 'resolved') as Resource,
        {
          resourceType: 'Appointment',
          id: 'h-ap1',
          status: 'fulfilled',
          start: '2026-03-03T10:00:00Z',
          end: '2026-03-03T10:20:00Z',
          participant: [{ actor: { reference: 'Patient/MRN1' }, status: 'accepted' }],
        } as Resource,
        {
          resourceType: 'Encounter',
          id: 'h-e1',
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject: { reference: 'Patient/MRN1' },
          period: { start: '2026-03-03T10:05:00Z', end: '2026-03-03T10:25:00Z' },
          serviceProvider: HOSPITAL_REF,
        } as Resource,
      ]),
    );
    personId = await personIdFor(r, NHS);
  }, 120_000);
  afterAll(async () => r?.drop());

  const read = async () => {
    const res = await getAs<Bundle>(r, gpToken, url());
    expect(res.status).toBe(200);
    const entries = res.body.entry ?? [];
    const of = <T>(type: string) =>
      entries.filter((e) => e.resource?.resourceType === type).map((e) => e.resource as T);
    const items = entries.filter((e) => e.search?.mode === 'match').map((e) => e.resource!);
    const lists = of<List>('List');
    const listOf = (type: string) =>
      lists.filter((l) => l.entry?.some((e) => e.item.reference?.startsWith(`${type}/`)));
    return { res, items, lists, listOf, provenance: of<Provenance>('Provenance') };
  };

  it("shows the hospital's letter and the GP's copy once, with both sources, and keeps both items", async () => {
    const { items, listOf } = await read();
    expect(items.filter((i) => i.resourceType === 'DocumentReference')).toHaveLength(2);
    const [letters, ...more] = listOf('DocumentReference');
    expect(more).toEqual([]);
    expect(letters!.entry!.map((e) => e.item.display).sort()).toEqual([
      'Northgate Hospital: Endocrinology clinic letter',
      'Riverside Surgery: Endocrinology clinic letter',
    ]);
    expect(letters!.extension ?? []).toEqual([]);
  });

  it('shows an allergy the GP recorded and the hospital refuted as a conflict, naming both', async () => {
    const [allergies] = (await read()).listOf('AllergyIntolerance');
    const conflict = allergies!.extension!.find((e) => e.url.endsWith('/reconciliation-conflict'))!;
    const text = conflict.extension!.find((e) => e.url === 'text')!.valueString;
    expect(text).toBe(
      'whether it is an allergy: refuted (Northgate Hospital) vs confirmed (Riverside Surgery)',
    );
    expect(allergies!.entry!.every((e) => e.flag?.coding?.[0]?.code === 'conflict')).toBe(true);
  });

  it('shows different doses of one medicine as a conflict, and one visit as one', async () => {
    const { listOf } = await read();
    const [meds] = listOf('MedicationStatement');
    expect(meds!.entry).toHaveLength(2);
    expect(meds!.extension![0]!.extension!.find((e) => e.url === 'field')!.valueCode).toBe('dose');
    const [visit] = listOf('Encounter');
    expect(visit!.entry!.map((e) => e.item.reference!.split('/')[0]).sort()).toEqual([
      'Appointment',
      'Encounter',
    ]);
  });

  it('gives each item a Provenance: the item, the source organisation, when it was received', async () => {
    const { items, provenance } = await read();
    expect(provenance).toHaveLength(items.length);
    for (const i of items) {
      const p = provenance.find((x) => x.target[0]!.reference === `${i.resourceType}/${i.id}`)!;
      expect(p.recorded).toBe(i.meta!.lastUpdated);
      const tag = i.meta!.tag!.find((t) => t.system === ODS)!;
      expect(p.agent[0]!.who!.identifier).toEqual({ system: ODS, value: tag.code });
    }
  });

  it('says how current each contributing source is', async () => {
    const { res } = await read();
    const currency = (res.body.meta as { extension?: Extension[] }).extension ?? [];
    const bySource = new Map(
      currency.map((c) => [c.extension!.find((e) => e.url === 'sourceSystem')!.valueString, c.extension!]),
    );
    expect([...bySource.keys()].sort()).toEqual(['gp-riverside', 'northgate-pas']);
    const { rows } = await r.db.query<{ id: string; at: string }>(
      `SELECT id, last_received_at AS at FROM source_system WHERE id IN ('gp-riverside', 'northgate-pas')`,
    );
    for (const row of rows)
      expect(bySource.get(row.id)!.find((e) => e.url === 'lastReceived')!.valueInstant).toBe(
        new Date(row.at).toISOString(),
      );
  });

  it('answers only valid FHIR R4 (the base definitions, by @medplum/core)', async () => {
    loadFhirDefinitions();
    const { res, lists, provenance } = await read();
    for (const resource of [...lists, ...provenance]) expect(() => validateResource(resource)).not.toThrow();
    expect(() => validateResource(res.body)).not.toThrow(); // the Bundle, its meta extensions included
  });

  it('never reconciles what is withheld: the never-shared items are neither sources nor a conflict', async () => {
    const { res, lists, provenance } = await read();
    expect(res.text).not.toContain('86406008');
    const ids = new Set(provenance.map((p) => p.target[0]!.reference));
    for (const l of lists) for (const e of l.entry ?? []) expect(ids.has(e.item.reference!)).toBe(true);
  });

  it('is audited as a record open naming what it returned', async () => {
    const { items } = await read();
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE action = 'record.open' ORDER BY seq DESC LIMIT 1`,
    );
    const event = JSON.parse(rows[0]!.event) as { query: string; returned: { count: number } };
    expect(event.query).toBe('Patient/{id}/$reconciled');
    // the person and each item (a digest of the ids, never the ids themselves)
    expect(event.returned.count).toBe(items.length + 1);
  });

  it('refuses a reader with no relationship, and answers a bad id with an OperationOutcome', async () => {
    const stranger = await getAs(r, await r.userToken('dr.away', 'LAB01'), url());
    expect(stranger.status).toBe(403);
    expect(stranger.text).not.toContain('Penicillin');
    const bad = await getAs<{ resourceType: string }>(r, gpToken, '/fhir/Patient/not-an-id/$reconciled');
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
  });

  it("after the person objects to sharing the hospital's refuted allergy, it is no source and no conflict", async () => {
    const before = await read();
    const refuted = before.items.find(
      (i) => i.resourceType === 'AllergyIntolerance' && JSON.stringify(i).includes('refuted'),
    )!;
    const dpo = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dpo1',
      org: 'Y90001',
      role: DPO_ROLE,
    });
    const res = await r.app.server.inject({
      method: 'POST',
      url: '/admin/objections',
      headers: { authorization: `Bearer ${dpo}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ nhs: NHS, scope: 'item', target: `AllergyIntolerance/${refuted.id}` }),
    });
    expect(res.statusCode).toBe(201);
    const after = await read();
    expect(after.res.text).not.toContain(refuted.id);
    expect(after.res.text).not.toContain('refuted');
    expect(after.listOf('AllergyIntolerance')).toEqual([]);
    expect(after.items.filter((i) => i.resourceType === 'AllergyIntolerance')).toHaveLength(1);
  });
});
