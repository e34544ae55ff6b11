/**
 * Person first in the keys (migration 023, docs/scale-out.md): a database that holds data under the
 * old keys migrates without losing a row, and rows an earlier merge left with the wrong person
 * follow their item; afterwards an item that changes person takes its history along, once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reassignRelationshipFacts, relationshipsWith } from '../src/access/index.ts';
import { itemMover } from '../src/ingest/index.ts';
import { migrate, pendingMigrations } from '../src/db/index.ts';
import { listObjections, listOverrides, listReviews, moveReviews } from '../src/policy/index.ts';
import { itemHistory } from '../src/store/index.ts';
import { bundle, NHS_A, NHS_B, observation, patient } from './fhir-data.ts';
import { count, everything, personIdFor, postFhir } from './http.ts';
import { DB_KINDS, freshDatabase, startRegion, type TestDatabase, type TestRegion } from './kit.ts';

const TABLES = [
  'person',
  'person_link',
  'clinical_item',
  'clinical_item_version',
  'relationship_fact',
  'sensitivity_review',
  'objection',
  'objection_override',
  'break_glass',
];

const counts = async (db: TestDatabase['db']) =>
  Object.fromEntries(
    await Promise.all(
      TABLES.map(async (t) => [
        t,
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n,
      ]),
    ),
  );

/**
 * What a region looked like under migration 022: person B took over source record gp|p1 from A in a
 * merge, and its item c1 moved, but c1's superseded version and its review entry stayed with A.
 */
async function holdData(db: TestDatabase['db']) {
  const [a, b] = [randomUUID(), randomUUID()];
  const [c1, c2, patientItem, o1, ov1] = [
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
    randomUUID(),
  ];
  const item = (id: string, person: string, version: number) =>
    db.query(
      `INSERT INTO clinical_item (id, person_id, resource_type, section, source_id, source_org, source_local_id,
         source_patient_id, version, content_hash, codes, security, sensitivity, received_at, body)
       VALUES ($1::uuid, $2, 'Observation', 'results', 'gp-riverside', 'Y90001', $1::text, 'p1', $3::int,
         'h' || $3::text, '{}', '{}', $4::text[], now(), '{"resourceType":"Observation"}')`,
      [id, person, version, version === 2 ? '{review:hiv}' : '{}'],
    );
  await db.query(`INSERT INTO person (id, nhs_number, verified) VALUES ($1, $2, true), ($3, $4, true)`, [
    a,
    NHS_A,
    b,
    NHS_B,
  ]);
  await db.query(
    `INSERT INTO person_link (source_id, local_id, person_id, link_reason, content_hash, demographics, updated_at)
     VALUES ('gp-riverside', 'p1', $1, 'source-merge', 'x', '{}', now())`,
    [b],
  );
  await item(c1, b, 2);
  await item(c2, a, 1);
  await db.query(
    `INSERT INTO clinical_item_version (id, version, person_id, content_hash, deleted, body, superseded_at)
     VALUES ($1, 1, $2, 'h1', false, '{}', now())`,
    [c1, a],
  );
  await db.query(
    `INSERT INTO sensitivity_review (item_id, person_id, status, matches, digest, flagged_at)
     VALUES ($1, $2, 'pending', '[]', 'd', now())`,
    [c1, a],
  );
  await db.query(
    `INSERT INTO relationship_fact (item_id, org_ods, kind, person_id, at, open)
     VALUES ($1, 'Y90001', 'registered', $3, now(), true), ($2, 'Y90001', 'seen', $3, now(), false)`,
    [patientItem, c1, b],
  );
  await db.query(
    `INSERT INTO objection (id, person_id, scope, recorded_by, recorded_at, nhs_number)
     VALUES ($1, $2, 'record', 'dpo', now(), $3)`,
    [o1, a, NHS_A],
  );
  await db.query(
    `INSERT INTO objection_override (id, objection_id, person_id, ground, reason, decided_by, decided_role,
       decided_org, starts_at, ends_at, notice)
     VALUES ($1, $2, $3, 'safeguarding', 'a child at risk', 'dr', 'R8000', 'Y90001', now(),
       now() + interval '7 days', 'notice')`,
    [ov1, o1, a],
  );
  await db.query(
    `INSERT INTO break_glass (id, person_id, user_id, user_org, user_role, reason, granted_at, expires_at)
     VALUES ($1, $2, 'dr.x', 'RX1', 'R8000', 'emergency', now(), now() + interval '1 hour')`,
    [randomUUID(), a],
  );
  return { a, b, c1, c2, o1 };
}

describe.each(DB_KINDS)('migration 023 on a database holding data, on %s', (kind) => {
  let fresh: TestDatabase;
  let data: Awaited<ReturnType<typeof holdData>>;
  let before: Record<string, number>;

  beforeAll(async () => {
    fresh = await freshDatabase(kind, { migrated: false });
    await migrate(fresh.db, '022_rate_limit.sql');
    expect((await pendingMigrations(fresh.db))[0]).toBe('023_person_keys.sql');
    data = await holdData(fresh.db);
    before = await counts(fresh.db);
    expect(await migrate(fresh.db, '023_person_keys.sql')).toEqual(['023_person_keys.sql']);
  }, 120_000);
  afterAll(async () => fresh?.drop());

  it('keeps every row of every person-keyed table', async () => {
    expect(await counts(fresh.db)).toEqual(before);
    expect(Object.values(before).every((n) => n > 0)).toBe(true);
  });

  it("puts an item's leftover version and review entry with the person the item is on", async () => {
    const history = await itemHistory(fresh.db, data.c1);
    expect(history.map((h) => h.version)).toEqual([2, 1]);
    const { rows } = await fresh.db.query<{ t: string; p: string }>(
      `SELECT 'version' AS t, person_id::text AS p FROM clinical_item_version WHERE id = $1
       UNION ALL SELECT 'review', person_id::text FROM sensitivity_review WHERE item_id = $1`,
      [data.c1],
    );
    expect(rows.map((r) => r.p)).toEqual([data.b, data.b]);
    expect((await listReviews(fresh.db)).map((r) => [r.itemId, r.personId])).toEqual([[data.c1, data.b]]);
  });

  it('keeps objections, their overrides and relationships readable by person', async () => {
    expect((await listObjections(fresh.db, data.a)).map((o) => o.id)).toEqual([data.o1]);
    expect((await listOverrides(fresh.db, data.a, true)).map((o) => o.objectionId)).toEqual([data.o1]);
    expect((await relationshipsWith(fresh.db, data.b, 'Y90001')).map((r) => r.kind).sort()).toEqual([
      'registered',
      'seen',
    ]);
  });

  it('then moves a source record back whole: its item, the item’s history, facts and review entry', async () => {
    const move = itemMover({ relationships: { reassign: reassignRelationshipFacts }, moveReviews });
    await fresh.db.transaction((tx) => move(tx, 'gp-riverside', 'p1', data.b, data.a));
    const { rows } = await fresh.db.query<{ t: string; p: string }>(
      `SELECT 'item' AS t, person_id::text AS p FROM clinical_item WHERE id = $1
       UNION ALL SELECT 'version', person_id::text FROM clinical_item_version WHERE id = $1
       UNION ALL SELECT 'fact', person_id::text FROM relationship_fact WHERE item_id = $1
       UNION ALL SELECT 'review', person_id::text FROM sensitivity_review WHERE item_id = $1`,
      [data.c1],
    );
    expect(rows.sort((x, y) => x.t.localeCompare(y.t))).toEqual([
      { t: 'fact', p: data.a },
      { t: 'item', p: data.a },
      { t: 'review', p: data.a },
      { t: 'version', p: data.a },
    ]);
    expect((await itemHistory(fresh.db, data.c1)).map((h) => h.version)).toEqual([2, 1]);
    expect(await counts(fresh.db)).toEqual(before);
  });

  it('has person_id first in the new keys, and an override cannot name another person’s objection', async () => {
    const { rows } = await fresh.db.query<{ t: string; k: string }>(
      `SELECT c.relname AS t, pg_get_constraintdef(x.oid) AS k FROM pg_constraint x
         JOIN pg_class c ON c.oid = x.conrelid
        WHERE x.contype = 'p' AND c.relname = ANY($1::text[]) ORDER BY 1`,
      [['clinical_item', 'clinical_item_version', 'objection', 'sensitivity_review']],
    );
    expect(rows.map((r) => r.k)).toEqual([
      'PRIMARY KEY (person_id, id)',
      'PRIMARY KEY (person_id, id, version)',
      'PRIMARY KEY (person_id, id)',
      'PRIMARY KEY (person_id, item_id)',
    ]);
    await expect(
      fresh.db.query(
        `INSERT INTO objection_override (id, objection_id, person_id, ground, reason, decided_by, decided_role,
           decided_org, starts_at, ends_at, notice)
         VALUES ($1, $2, $3, 'safeguarding', 'wrong person', 'dr', 'R8000', 'Y90001', now(),
           now() + interval '1 day', 'n')`,
        [randomUUID(), data.o1, data.b],
      ),
    ).rejects.toThrow();
  });
});

describe.each(DB_KINDS)('an item its source refiles under another patient, on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  }, 300_000);
  afterAll(async () => r?.drop());

  it('leaves the first person’s record and joins the second’s with its history, stored once', async () => {
    const first = await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('pa', NHS_A), patient('pb', NHS_B), observation('o1', 'Patient/pa', 48)]),
    );
    expect(first.status, first.text).toBe(200);
    const [a, b] = [await personIdFor(r, NHS_A), await personIdFor(r, NHS_B)];
    expect((await everything(r, a)).items.map((i) => i.resourceType)).toEqual(['Observation']);

    const again = await postFhir(r, 'gp-riverside', bundle('batch', [observation('o1', 'Patient/pb', 52)]));
    expect(again.status, again.text).toBe(200);
    expect((await everything(r, a)).items).toEqual([]);
    const moved = (await everything(r, b)).items;
    expect(moved.map((i) => [i.resourceType, i.meta?.versionId])).toEqual([['Observation', '2']]);
    expect(await count(r, 'clinical_item')).toBe(1);
    expect((await itemHistory(r.db, moved[0]!.id!)).map((h) => h.version)).toEqual([2, 1]);
    const { rows } = await r.db.query<{ p: string }>(
      'SELECT DISTINCT person_id::text AS p FROM clinical_item_version',
    );
    expect(rows).toEqual([{ p: b }]);
  });
});
