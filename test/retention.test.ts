/**
 * Retention end to end, on PGlite and PostgreSQL: data ingested through the real API with dates
 * relative to today, then `runRetention` (as the CLI's direct mode calls it) and the admin endpoint.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nhsCheckDigit } from '../src/identity/index.ts';
import { upsertOrganisation, upsertSource } from '../src/region/index.ts';
import { addYears, runRetention, type RetentionReport } from '../src/retention/index.ts';
import { bundle, condition, HYPERTENSION, observation, patient } from './fhir-data.ts';
import { count, everything, getAs, personIdFor, postFhir } from './http.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

const DAY = 86_400_000;
const SNOMED = 'http://snomed.info/sct';
const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
/** today + years (negative: ago) + days, as YYYY-MM-DD */
const shift = (years: number, days = 0) => iso(addYears(midnight, years) + days * DAY);
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
const plus = (date: string, years: number, days = 0) => iso(addYears(Date.parse(date), years) + days * DAY);

/** Valid NHS numbers (modulus 11), none of them anyone's. */
const NHS = Array.from({ length: 400 }, (_, i) => String(990500000 + i))
  .map((nine) => ({ nine, check: nhsCheckDigit(nine) }))
  .filter((n) => n.check !== undefined)
  .map((n) => `${n.nine}${n.check}`);
const [A, B, C, D, E, F] = NHS as [string, string, string, string, string, string];

const encounter = (id: string, ref: string, start: string, type?: string): Resource =>
  ({
    resourceType: 'Encounter',
    id,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    ...(type ? { type: [{ coding: [{ system: SNOMED, code: type }] }] } : {}),
    subject: { reference: ref },
    period: { start, end: start },
  }) as Resource;

// Last contacts and birth dates
const aContact = shift(-9); // an adult, 9 years ago: goes
const bContact = shift(-7); // an adult, 7 years ago: stays
const cContact = shift(-9); // a child of 10 then: stays until the 25th birthday
const cBirth = plus(cContact, -10, -60);
const dContact = shift(-8, -180); // 17 then: past the 25th birthday, kept until the 26th
const dBirth = plus(dContact, -17, -90);
const eContact = shift(-12); // ordinary items go, maternity items stay 25 years
const fContact = shift(-15); // ordinary items go, mental-health items stay 20 years

async function load(r: TestRegion): Promise<void> {
  const gp = (nhs: string, local: string, birthDate = '1970-01-01') => patient(local, nhs, { birthDate });
  const ok = async (source: string, resources: Resource[]) =>
    expect((await postFhir(r, source, bundle('batch', resources))).status).toBe(200);
  await ok('gp-riverside', [
    gp(A, 'a'),
    observation('a-obs', 'Patient/a', 40, aContact),
    condition('a-htn', 'Patient/a', HYPERTENSION, { onsetDateTime: aContact }),
    // entered in error last year: a date that must not count as a contact
    observation('a-eie', 'Patient/a', 99, shift(-1), { status: 'entered-in-error' }),
    gp(B, 'b'),
    observation('b-obs', 'Patient/b', 41, bContact),
    gp(C, 'c', cBirth),
    observation('c-obs', 'Patient/c', 42, cContact),
    gp(D, 'd', dBirth),
    observation('d-obs', 'Patient/d', 43, dContact),
    gp(E, 'e'),
    observation('e-obs', 'Patient/e', 44, eContact),
    condition(
      'e-preg',
      'Patient/e',
      { system: SNOMED, code: '77386006', display: 'Pregnancy' },
      {
        onsetDateTime: eContact,
      },
    ),
    gp(F, 'f'),
    observation('f-obs', 'Patient/f', 45, fContact),
    condition(
      'f-dep',
      'Patient/f',
      { system: SNOMED, code: '35489007', display: 'Depressive disorder' },
      {
        onsetDateTime: fContact,
      },
    ),
  ]);
  // a second version of a-obs: the first goes to clinical_item_version
  await ok('gp-riverside', [observation('a-obs', 'Patient/a', 47, aContact)]);
  await ok('northgate-pas', [
    gp(A, 'pas-a'),
    encounter('a-enc', 'Patient/pas-a', aContact),
    gp(E, 'pas-e'),
    encounter('e-anc', 'Patient/pas-e', eContact, '424525001'), // antenatal care
    // an ordinary code, but taken at the antenatal encounter: part of the maternity record
    observation('e-anc-bp', 'Patient/pas-e', 46, eContact, { encounter: { reference: 'Encounter/e-anc' } }),
  ]);
  await ok('rx2-epr', [gp(F, 'rx2-f'), encounter('f-cmht', 'Patient/rx2-f', fContact)]);
}

const TABLES = [
  'clinical_item',
  'clinical_item_version',
  'relationship_fact',
  'person_link',
  'person',
  'audit_event',
];
const counts = (r: TestRegion) => Promise.all(TABLES.map((t) => count(r, t)));
const actor = { userId: 'ops.one', org: 'Y90001', role: 'sharedcare-admin' };
const byRule = (rep: RetentionReport) =>
  Object.fromEntries(rep.rules.map((c) => [c.rule, [c.persons, c.items]]));
const comparable = ({ rules, kept, persons, removed }: RetentionReport) => ({
  rules,
  kept,
  persons,
  removed,
});

describe.each(DB_KINDS)('retention on %s', (kind) => {
  let r: TestRegion;
  const ids: Record<string, string> = {};
  const dry = (asOf?: string) => runRetention(r.db, r.config.retention, actor, { dryRun: true, asOf });
  const titles = async (id: string) =>
    (await everything(r, id)).items.map(
      (i) =>
        `${i.resourceType}/${(i as { code?: { coding?: { code?: string }[] } }).code?.coding?.[0]?.code ?? ''}`,
    );

  beforeAll(async () => {
    r = await startRegion(kind);
    await r.db.transaction(async (tx) => {
      await upsertOrganisation(tx, {
        ods: 'RX2',
        name: 'Community and Mental Health Trust',
        kind: 'community-mental-health',
        contributes: true,
        views: true,
      });
      await upsertSource(tx, { id: 'rx2-epr', org: 'RX2', kind: 'fhir' });
    });
    await load(r);
    for (const [name, nhs] of Object.entries({ A, B, C, D, E, F })) ids[name] = await personIdFor(r, nhs);
  }, 120_000);
  afterAll(() => r?.drop());

  let dryReport: RetentionReport;
  it('a dry run reports by rule and changes nothing, audit included', async () => {
    const before = await counts(r);
    dryReport = await dry();
    expect(await counts(r)).toEqual(before);
    expect(dryReport).toMatchObject({ dryRun: true, persons: { examined: 6, removed: 1, partlyRemoved: 2 } });
    // A whole (4 items), and the ordinary items of E and F
    expect(byRule(dryReport)).toEqual({
      adult: [3, 6],
      child: [0, 0],
      maternity: [0, 0],
      'mental-health': [0, 0],
    });
    expect(dryReport.kept).toEqual([
      { rule: 'maternity', persons: 1, items: 3 },
      { rule: 'mental-health', persons: 1, items: 2 },
    ]);
    expect(dryReport.removed).toMatchObject({ items: 6, versions: 1, personLinks: 2 });
    expect(dryReport.removed.relationshipFacts).toBeGreaterThanOrEqual(2); // A's encounter, registration
  });

  it('a real run removes the same, in full, and is audited without identifiers', async () => {
    const itemIds = (
      await r.db.query<{ id: string }>('SELECT id FROM clinical_item WHERE person_id = $1', [ids.A])
    ).rows.map((x) => x.id);
    const { rows: last } = await r.db.query<{ seq: string }>(
      'SELECT coalesce(max(seq), 0)::text AS seq FROM audit_event',
    );
    const seq = last[0]!.seq;
    const real = await runRetention(r.db, r.config.retention, actor, { dryRun: false, batchSize: 2 });
    expect(comparable(real)).toEqual(comparable(dryReport));
    expect(real.batches).toBe(2); // 3 persons with something to remove, 2 per batch

    for (const [table, column] of [
      ['clinical_item', 'person_id'],
      ['relationship_fact', 'person_id'],
      ['person_link', 'person_id'],
      ['person', 'id'],
    ])
      expect(await r.db.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [ids.A]), table).toMatchObject({
        rowCount: 0,
      });
    expect(
      await r.db.query('SELECT 1 FROM clinical_item_version WHERE id = ANY($1::uuid[])', [itemIds]),
    ).toMatchObject({ rowCount: 0 });

    const events = (
      await r.db.query<{ action: string; person_id: string | null; event: string }>(
        `SELECT action, person_id, event FROM audit_event WHERE seq > $1 AND action <> 'audit.alert' ORDER BY seq`,
        [seq],
      )
    ).rows;
    expect(events.length).toBeGreaterThanOrEqual(2); // batches that removed something, and the summary
    for (const e of events) {
      expect(e).toMatchObject({ action: 'retention.run', person_id: null });
      for (const secret of [...Object.values(ids), A, B, C, D, E, F]) expect(e.event).not.toContain(secret);
    }
    expect(events.at(-1)!.event).toContain('summary');
  });

  it('removed data is gone from search and $everything; what is kept is still there', async () => {
    const token = await r.userToken('dr.reader', 'Y90001');
    const found = await getAs(r, token, `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${A}`);
    expect(found.status).toBe(200);
    expect((found.body.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient')).toEqual([]);
    expect((await everything(r, ids.A!)).status).toBe(404);
    expect((await getAs(r, token, `/fhir/Observation?patient=${ids.A}`)).status).toBe(404);

    expect((await everything(r, ids.B!)).items).toHaveLength(1);
    expect((await everything(r, ids.C!)).items).toHaveLength(1);
    expect((await everything(r, ids.D!)).items).toHaveLength(1);
    expect((await titles(ids.E!)).sort()).toEqual([
      'Condition/77386006',
      'Encounter/',
      'Observation/1049301000000100',
    ]);
    expect((await titles(ids.F!)).sort()).toEqual(['Condition/35489007', 'Encounter/']);
    // of E's observations only the one taken at the antenatal encounter is kept
    const obs = await getAs(r, token, `/fhir/Observation?patient=${ids.E}`);
    const kept = (obs.body.entry ?? []).filter((e) => e.resource?.resourceType === 'Observation');
    expect(
      kept.map((e) => (e.resource as { valueQuantity?: { value?: number } }).valueQuantity?.value),
    ).toEqual([46]);
  });

  it('a second run finds nothing more to remove', async () => {
    const again = await runRetention(r.db, r.config.retention, actor, { dryRun: false });
    expect(again.removed).toEqual({ items: 0, versions: 0, relationshipFacts: 0, personLinks: 0 });
  });

  // "What would go on date X": each person's record goes on the day its period ends, not before
  it.each([
    ['a child of 10: the 25th birthday', 'child', () => plus(cBirth, 25), 'C'],
    ['17 at the last contact: the 26th birthday', 'child', () => plus(dBirth, 26), 'D'],
    ['maternity: 25 years after', 'maternity', () => plus(eContact, 25), 'E'],
    ['mental health: 20 years after', 'mental-health', () => plus(fContact, 20), 'F'],
  ])('%s', async (_name, rule, date, who) => {
    const [before, on] = [await dry(plus(date(), 0, -1)), await dry(date())];
    const persons = (rep: RetentionReport) => rep.rules.find((c) => c.rule === rule)!.persons;
    expect(persons(on) - persons(before)).toBe(1);
    expect(on.persons.removed - before.persons.removed).toBe(1);
    expect((await everything(r, ids[who]!)).status).toBe(200); // a dry run removed nothing
  });

  it('POST /admin/retention/run: administrators only; bad input says what to fix', async () => {
    const post = async (token: string, payload: unknown) =>
      r.app.server.inject({
        method: 'POST',
        url: '/admin/retention/run',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });
    const ok = await post(await r.adminToken(), { dryRun: true, asOf: '2099-01-01' });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ dryRun: true, asOf: '2099-01-01T00:00:00.000Z' });
    expect((await post(await r.userToken('dr.x', 'Y90001'), { dryRun: true })).statusCode).toBe(403);
    const future = await post(await r.adminToken(), { dryRun: false, asOf: '2099-01-01' });
    expect(future.statusCode).toBe(400);
    expect(future.body).toMatch(/add --dry-run/i);
    const bad = await post(await r.adminToken(), { dryRun: 'yes' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/dryRun is true or false/);
    expect((await post(await r.adminToken(), { dryRun: true, asOf: '31/01/2030' })).body).toMatch(
      /YYYY-MM-DD/,
    );
  });
});
