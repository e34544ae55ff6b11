/**
 * The scale-out rule (docs/scale-out.md), checked against the migrated schema on PostgreSQL and
 * against the statements a record open and an ingest actually run: what a Citus cluster needs to
 * route each to one person's shard. A new migration or a new statement that breaks the rule fails
 * here; the departures there by design are listed below, each with its reason, and an entry that no
 * longer applies fails too, so the list only shrinks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintSourceToken, mintUserToken } from '../src/access/index.ts';
import { createApp, type App } from '../src/app.ts';
import { bundle, firstRecord, observation } from './fhir-data.ts';
import {
  appHandle,
  DB_KINDS,
  freshDatabase,
  registerRiverside,
  testConfig,
  type TestDatabase,
} from './kit.ts';
import { postFhir } from './http.ts';
import {
  foreignKeyViolations,
  keyViolations,
  personKeyedTables,
  recording,
  statementViolations,
  type Captured,
  withFunctionBodies,
  type Violation,
} from './scale-out-rule.ts';

/**
 * Tables with a person_id column that are not distributed by it (docs/scale-out.md says where
 * they go instead). A new table with person_id must be either distributed by it or named here.
 */
const NOT_BY_PERSON: Record<string, string> = {
  audit_event:
    'the audit trail is hash-chained in 16 chains, each appended in order; distributed by its chain column (colocated with audit_chain_head), person_id is an attribute the reports search on',
  audit_alert: 'alerts are few and the DPO reads them across people and users: a table on the coordinator',
};

/**
 * Departures in person-distributed tables, each by design. Anything else must put person_id first
 * in the key (migration 023 did so for the clinical tables).
 */
const ALLOWED_KEYS: Record<string, string> = {
  'pk person_link':
    'the identity index is looked up by (source_id, local_id) before the person is known: it stays keyed by the source record (distributed by source_id, or a table of the coordinator)',
};

/**
 * Statements on person-distributed tables that do not name one person, and why: identity
 * resolution (before the person is known), a chunk of intake naming its people together (routed to
 * their shards), and the check by id of an item not at its person (docs/scale-out.md, "Before
 * distributing", says what routes it on Citus).
 */
const ALLOWED_STATEMENTS: { tables: string[]; pattern: RegExp; reason: string }[] = [
  {
    tables: ['clinical_item'],
    pattern: /^SELECT id FROM clinical_item WHERE id = ANY\(\$1::uuid\[\]\)$/,
    reason:
      "intake: whether a new conditional create's own id already holds one of the source's items (src/ingest/pipeline/stored-names.ts heldItems), whoever's: by item id alone, as the refiled-item probe",
  },
  {
    tables: ['clinical_item'],
    pattern:
      /JOIN clinical_item c ON c\.id = w\.name::uuid AND c\.source_id = \$1 AND c\.resource_type = w\.type/,
    reason:
      "intake: an id a request names that is Sharedcare's id of the source's item (the one intake answered with; src/ingest/pipeline/stored-names.ts). By item id alone, as the refiled-item probe below: a PUT by it may move the item to another patient",
  },
  {
    tables: ['person_link', 'person'],
    pattern:
      /FROM person_link l JOIN person p ON p\.id = l\.person_id WHERE l\.source_id = \$1 AND l\.local_id = ANY/,
    reason: 'identity resolution: which person a source record belongs to is what is being found out',
  },
  {
    tables: ['person_link', 'person'],
    pattern:
      /^SELECT json_build_object\('local_id', l\.local_id, .* FROM person_link l JOIN person p ON p\.id = l\.person_id WHERE l\.source_id = \$1 AND l\.local_id = \$2$/,
    reason:
      "identity resolution for one record (migration 028, identity_decision_read): which person it belongs to, read before its decision's locks",
  },
  {
    tables: ['person_link'],
    pattern: /^SELECT local_id, person_id FROM person_link WHERE source_id = \$1 AND local_id = ANY/,
    reason:
      'identity resolution: the persons of the source records that items refer to, in a request that does not carry their Patient',
  },
  {
    tables: ['person_link'],
    pattern: /JOIN person_link l ON l\.source_id = \$1 AND l\.person_id = w\.name::uuid GROUP BY w\.name/,
    reason:
      "identity resolution: a Patient an item names by the person's id intake answered with (src/ingest/pipeline/stored-names.ts) is the source's one record linked to that person; by the source's key, as person_link is distributed",
  },
  {
    tables: ['person_link', 'person'],
    pattern: /FROM person_link l JOIN person p ON p\.id = l\.person_id WHERE l\.block_dob = \$1/,
    reason: 'identity matching: the candidates sharing a blocking key are other people by design',
  },
  {
    tables: ['person_link', 'person'],
    pattern: /^SELECT \(SELECT coalesce\(json_agg\(json_build_array\(c\.source_id, c\.local_id, c\.person_id/,
    reason:
      "identity matching's one read per decision batch (src/identity/decision-reads.ts): candidates sharing a blocking key, the persons holding the batch's NHS numbers and their records, remembered decisions; other people by design, before the person is known",
  },
  {
    tables: ['person_link'],
    pattern: /FROM identity_decision d LEFT JOIN person_link l/,
    reason: 'identity resolution: decisions recorded about source records, before the person is known',
  },
  {
    tables: ['person'],
    pattern: /^SELECT id, nhs_number FROM person WHERE nhs_number = ANY/,
    reason: 'identity resolution by NHS number (a lookup table keyed by NHS number on Citus)',
  },
  {
    tables: ['clinical_item'],
    pattern: /^SELECT id, person_id, version, .* FROM clinical_item WHERE id = ANY/,
    reason:
      'an item not found at the person the source now names: is it stored under another person (the source refiled it to another patient)? then it moves with its history (src/store/move.ts). By item id alone: on Citus a probe of clinical_item_id on every shard, or one routed probe of a table keyed by item id (docs/scale-out.md)',
  },
  {
    tables: ['clinical_item', 'clinical_item_version', 'relationship_fact', 'sensitivity_review'],
    pattern:
      /(?:FROM|UPDATE|INTO) (?:clinical_item|clinical_item_version|relationship_fact|sensitivity_review) .*WHERE person_id = ANY/,
    reason:
      "the people of one intake chunk at once (each item's person is known before it is stored): a multi-person statement, routed to those people's shards on Citus",
  },
];

function departures(found: Violation[], allowed: Record<string, string>) {
  return {
    unexpected: found.filter((v) => !(v.key in allowed)).map((v) => `${v.key}: ${v.detail}`),
    stale: Object.keys(allowed).filter((k) => !found.some((v) => v.key === k)),
  };
}

describe.skipIf(!DB_KINDS.includes('postgres'))('the scale-out rule (PostgreSQL, migrated schema)', () => {
  let fresh: TestDatabase;
  let personTables: Set<string>;
  let app: App;
  let ingest: Captured[] = [];
  let open: Captured[] = [];

  beforeAll(async () => {
    fresh = await freshDatabase('postgres');
    personTables = new Set(await personKeyedTables(fresh.db));
    await registerRiverside(fresh.db);
    const rec = recording(fresh.db);
    const config = testConfig();
    app = await createApp(config, { db: rec.db });
    rec.statements.length = 0;
    const res = await postFhir(appHandle(app, config), 'gp-riverside', firstRecord());
    expect(res.status, res.text).toBe(200);
    // then a change and a source's DELETE: replaced items, their history, a deletion by item only
    const change = bundle('transaction', [observation('o1', 'Patient/p1', 52)]);
    change.entry!.push({ request: { method: 'DELETE', url: 'Condition/c1' } });
    const res2 = await app.server.inject({
      method: 'POST',
      url: '/ingest/fhir',
      headers: {
        authorization: `Bearer ${await mintSourceToken(config.devIssuerSecret!, 'gp-riverside')}`,
        'content-type': 'application/fhir+json',
      },
      payload: JSON.stringify(change),
    });
    expect(res2.statusCode, res2.body).toBe(200);
    expect(res2.body).toMatch(/"status":"200 OK"[\s\S]*"status":"(?:200|204)/);
    ingest = rec.statements.splice(0);
    // the second request stored a version and a deletion
    const { rows: kept } = await fresh.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM clinical_item_version',
    );
    expect(kept[0]!.n).toBe(2);
    const personId = (await fresh.db.query<{ id: string }>('SELECT id FROM person')).rows[0]!.id;
    const token = await mintUserToken(config.devIssuerSecret!, {
      user: 'dr.reader',
      org: 'Y90001',
      role: 'R8000',
    });
    const o = await app.server.inject({
      method: 'GET',
      url: `/fhir/Patient/${personId}/$everything`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(o.statusCode).toBe(200);
    open = rec.statements.splice(0);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await fresh?.drop();
  });

  it('every table with person_id is either distributed by it or named as an exception, with its reason', () => {
    expect(personTables.size).toBeGreaterThan(5);
    for (const t of Object.keys(NOT_BY_PERSON)) expect(personTables, t).toContain(t);
  });

  it('person-distributed tables carry person_id in their primary key and unique constraints', async () => {
    const found = (await keyViolations(fresh.db)).filter((v) => !(v.detail.split(' ')[0]! in NOT_BY_PERSON));
    const fks = await foreignKeyViolations(fresh.db);
    const d = departures(
      [...found, ...fks.filter((v) => !(v.detail.split(' ')[0]! in NOT_BY_PERSON))],
      ALLOWED_KEYS,
    );
    expect(d.unexpected, 'a key or foreign key without person_id: put person_id in it').toEqual([]);
    expect(d.stale, 'no longer departs from the rule: remove it from ALLOWED_KEYS').toEqual([]);
  });

  it.each([
    ['an ingest', () => ingest],
    ['a record open', () => open],
  ])('every statement of %s on a person-distributed table names one person', async (_label, statements) => {
    const captured = await withFunctionBodies(fresh.db, statements());
    expect(captured.length).toBeGreaterThan(3);
    const tables = new Set([...personTables, 'person'].filter((t) => !(t in NOT_BY_PERSON)));
    const bad = statementViolations(captured, tables).filter(
      (v) =>
        !ALLOWED_STATEMENTS.some(
          (a) => a.tables.some((t) => v.key.startsWith(`statement ${t}:`)) && a.pattern.test(v.detail),
        ),
    );
    expect(
      bad.map((v) => v.detail),
      'filter on person_id = $n (or insert person_id), or allow it with its reason',
    ).toEqual([]);
  });

  it('the statement check itself catches a statement that spans people', () => {
    const tables = new Set(['clinical_item', 'person']);
    expect(
      statementViolations(
        [
          { sql: 'SELECT body FROM clinical_item WHERE source_id = $1', params: ['x'] },
          { sql: 'SELECT body FROM clinical_item WHERE person_id = $1', params: ['x'] },
          { sql: 'INSERT INTO clinical_item (id, person_id) VALUES ($1, $2)', params: [] },
          { sql: 'SELECT * FROM person WHERE nhs_number = $1', params: [] },
        ],
        tables,
      ).map((v) => v.detail),
    ).toEqual([
      'SELECT body FROM clinical_item WHERE source_id = $1',
      'SELECT * FROM person WHERE nhs_number = $1',
    ]);
  });

  it('a statement inside a function the server calls is checked as if sent directly', async () => {
    await fresh.db.exec(
      `CREATE FUNCTION rule_probe(p_source text, p_person uuid) RETURNS integer LANGUAGE plpgsql AS $$
       DECLARE v integer;
       BEGIN
         IF p_source <> '' THEN
           SELECT count(*) INTO v FROM clinical_item WHERE source_id = p_source;
         END IF;
         PERFORM 1 FROM clinical_item c WHERE c.person_id = p_person;
         RETURN v;
       END $$`,
    );
    try {
      const called = await withFunctionBodies(fresh.db, [{ sql: 'SELECT rule_probe($1, $2)', params: [] }]);
      expect(called.map((c) => c.sql)).toEqual([
        'SELECT rule_probe($1, $2)',
        'SELECT count(*) INTO v FROM clinical_item WHERE source_id = $1',
        'SELECT 1 FROM clinical_item c WHERE c.person_id = $2',
      ]);
      expect(statementViolations(called, new Set(['clinical_item'])).map((v) => v.detail)).toEqual([
        'SELECT count(*) INTO v FROM clinical_item WHERE source_id = $1',
      ]);
      // the ingest's own call reaches the identity function's statements
      const ingestBodies = await withFunctionBodies(fresh.db, ingest);
      expect(ingestBodies.some((c) => /identity_decision_read\(/.test(c.sql))).toBe(true);
      expect(ingestBodies.some((c) => c.sql.startsWith("SELECT json_build_object('local_id'"))).toBe(true);
    } finally {
      await fresh.db.exec('DROP FUNCTION rule_probe(text, uuid)');
    }
  });

  it('a migration that adds a person-keyed table without person_id in its key is caught', async () => {
    await fresh.db.exec(
      `CREATE TABLE care_note (id uuid PRIMARY KEY, person_id uuid NOT NULL, code text UNIQUE);
       CREATE TABLE care_note_part (person_id uuid, note_id uuid REFERENCES care_note (id), PRIMARY KEY (person_id, note_id))`,
    );
    const keys = (await keyViolations(fresh.db)).map((v) => v.key);
    expect(keys).toEqual(expect.arrayContaining(['pk care_note', 'unique care_note_code_key']));
    expect(keys).not.toContain('pk care_note_part');
    expect((await foreignKeyViolations(fresh.db)).map((v) => v.key)).toContain(
      'fk care_note_part_note_id_fkey',
    );
  });
});
