/**
 * How many statements a record open sends to PostgreSQL. Each is a round trip, and on a loaded
 * machine each round trip waits for a core: an open that took twelve (BEGIN, the person, the
 * relationships, the break-glass grants, the objections, the items, the source records, the pending
 * reviews, the audit append, the out-of-hours repeat check, COMMIT) was 8-14 times the bare fetch of
 * the same rows (BENCHMARKS.md, issue 16). The gate now reads the decision's facts in one composed
 * statement, the items in a second, and appends the audit event in a third; this test holds that
 * number so it cannot creep back. It counts statements, not time.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { createApp, type App } from '../src/app.ts';
import type { Config } from '../src/config/index.ts';
import { bundle, condition, firstRecord, HYPERTENSION, patient } from './fhir-data.ts';
import {
  appHandle,
  DB_KINDS,
  freshDatabase,
  registerRiverside,
  testConfig,
  type TestDatabase,
} from './kit.ts';
import { postFhir } from './http.ts';
import { recordingTransactions, type Captured } from './scale-out-rule.ts';

/** Wednesday 25 November 2026: noon, and half past eleven at night (Europe/London). */
const NOON = Date.parse('2026-11-25T12:00:00Z');
const NIGHT = Date.parse('2026-11-25T23:30:00Z');

/**
 * A fresh PostgreSQL database with the Riverside practice, and an app on it whose statements are
 * recorded (every BEGIN and COMMIT included).
 */
async function recordedApp(config: Config, clock: () => Date) {
  const fresh = await freshDatabase('postgres');
  await registerRiverside(fresh.db);
  const rec = recordingTransactions(fresh.db);
  const app = await createApp(config, { db: rec.db, clock });
  return { fresh, app, statements: rec.statements };
}

/** The statements one GET as this reader ran (it must answer 200). */
async function statementsOf(app: App, statements: Captured[], url: string, token: string): Promise<string[]> {
  statements.length = 0;
  const res = await app.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode, res.body).toBe(200);
  return statements.map((s) => s.sql.replace(/\s+/g, ' ').trim());
}

describe.skipIf(!DB_KINDS.includes('postgres'))('the statements of a record open (PostgreSQL)', () => {
  let fresh: TestDatabase;
  let app: App;
  let statements: Captured[];
  let personId: string;
  let reader: string;
  let itemId: string;
  let now = NOON;

  const run = (url: string) => statementsOf(app, statements, url, reader);

  beforeAll(async () => {
    const config = testConfig();
    ({ fresh, app, statements } = await recordedApp(config, () => new Date(now)));
    const res = await postFhir(appHandle(app, config), 'gp-riverside', firstRecord());
    expect(res.status, res.text).toBe(200);
    personId = (await fresh.db.query<{ id: string }>('SELECT id FROM person')).rows[0]!.id;
    itemId = (
      await fresh.db.query<{ id: string }>(
        "SELECT id FROM clinical_item WHERE person_id = $1 AND resource_type = 'Condition'",
        [personId],
      )
    ).rows[0]!.id;
    reader = await mintUserToken(config.devIssuerSecret!, {
      user: 'dr.reader',
      org: 'Y90001',
      role: 'R8000',
    });
    // the first request reads the region's directory (cached per process after that)
    await run(`/fhir/Patient/${personId}/$everything`);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await fresh?.drop();
  });

  it('in working hours: three statements, no transaction (the decision context, the items, the audit append)', async () => {
    now = NOON;
    const sql = await run(`/fhir/Patient/${personId}/$everything`);
    expect(sql).toHaveLength(3);
    // one statement reads every fact of the decision, each module's fragment about this person
    for (const table of [
      'FROM person WHERE id = $1',
      'FROM person_link',
      'FROM relationship_fact',
      'FROM break_glass',
      'FROM objection',
      'FROM objection_override',
      'FROM identity_review',
    ])
      expect(sql[0]).toContain(table);
    expect(sql[1]).toMatch(/FROM clinical_item WHERE person_id = \$1/);
    expect(sql[2]).toMatch(/FROM audit_append\(/);
  });

  it('at night, the out-of-hours alert is raised once (in its own transaction), and a repeat costs no statement', async () => {
    now = NIGHT;
    const first = await run(`/fhir/Patient/${personId}/$everything`);
    expect(first).toHaveLength(7);
    expect(first[2]).toMatch(/FROM audit_append\(/);
    expect(first.slice(3)).toEqual([
      'BEGIN',
      expect.stringMatching(/FROM audit_append\(/),
      expect.stringMatching(/^INSERT INTO audit_alert /),
      'COMMIT',
    ]);
    // whether an earlier alert covers this one is asked in the append itself
    expect(await run(`/fhir/Patient/${personId}/$everything`)).toHaveLength(3);
    const alerts = await fresh.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_alert WHERE rule = 'out-of-hours' AND person_id = $1",
      [personId],
    );
    expect(alerts.rows[0]!.n).toBe(1);
  });

  it('reading one item: whose it is, then the same three', async () => {
    now = NOON;
    const sql = await run(`/fhir/Condition/${itemId}`);
    expect(sql).toHaveLength(4);
    expect(sql[0]).toMatch(/^SELECT person_id AS "personId" FROM clinical_item WHERE id = \$1/);
    expect(sql[3]).toMatch(/FROM audit_append\(/);
  });

  it('answers only once its audit event has committed: while another transaction holds the chain heads, the open waits', async () => {
    now = NOON;
    const opens = async () =>
      (
        await fresh.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM audit_event WHERE action = 'record.open' AND person_id = $1",
          [personId],
        )
      ).rows[0]!.n;
    const before = await opens();
    const holder = new pg.Client({ connectionString: fresh.url! });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT chain FROM audit_chain_head FOR UPDATE');
      let answered = false;
      const open = app.server
        .inject({
          method: 'GET',
          url: `/fhir/Patient/${personId}/$everything`,
          headers: { authorization: `Bearer ${reader}` },
        })
        .then((res) => {
          answered = true;
          return res;
        });
      // the items have been read and the append sent: it waits for a chain head the holder has
      // locked, and the answer waits with it
      for (let waited = 0; ; waited += 20) {
        const { rows } = await holder.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND pg_backend_pid() = ANY(pg_blocking_pids(pid))`,
        );
        if (rows[0]!.n > 0) break;
        if (waited > 10_000) throw new Error('the audit append never reached the chain heads');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(answered).toBe(false);
      await holder.query('ROLLBACK');
      const res = await open;
      expect(res.statusCode, res.body).toBe(200);
      expect(res.body).toContain(itemId);
      expect(await opens()).toBe(before + 1);
    } finally {
      await holder.end();
    }
  });
});

describe.skipIf(!DB_KINDS.includes('postgres'))(
  'the statements of a record open by a reader the many-records rule has already alerted (PostgreSQL)',
  () => {
    const NHS = ['9990000034', '9990000042', '9990000050'];
    let fresh: TestDatabase;
    let app: App;
    let statements: Captured[];
    let reader: string;
    const ids: string[] = [];

    const open = (personId: string) =>
      statementsOf(app, statements, `/fhir/Patient/${personId}/$everything`, reader);

    beforeAll(async () => {
      const base = testConfig();
      // two different people within 15 minutes raise the alert
      const config = testConfig({
        audit: {
          ...base.audit,
          alerts: { ...base.audit.alerts, manyRecords: { enabled: true, persons: 2, minutes: 15 } },
        },
      });
      ({ fresh, app, statements } = await recordedApp(config, () => new Date(NOON)));
      const res = await postFhir(
        appHandle(app, config),
        'gp-riverside',
        bundle(
          'transaction',
          NHS.flatMap((nhs, i) => [
            patient(`m${i}`, nhs),
            condition(`mc${i}`, `Patient/m${i}`, HYPERTENSION),
          ]),
        ),
      );
      expect(res.status, res.text).toBe(200);
      for (const nhs of NHS)
        ids.push(
          (await fresh.db.query<{ id: string }>('SELECT id FROM person WHERE nhs_number = $1', [nhs]))
            .rows[0]!.id,
        );
      reader = await mintUserToken(config.devIssuerSecret!, {
        user: 'dr.busy',
        org: 'Y90001',
        role: 'R8000',
      });
    }, 120_000);
    afterAll(async () => {
      await app?.close();
      await fresh?.drop();
    });

    it('raises the alert once, in its own transaction; a later open of another person costs no statement to learn it is a repeat', async () => {
      await open(ids[0]!); // the first person, and the region's directory read once
      const second = await open(ids[1]!);
      expect(second.slice(3)).toEqual([
        'BEGIN',
        expect.stringMatching(/FROM audit_append\(/),
        expect.stringMatching(/^INSERT INTO audit_alert /),
        'COMMIT',
      ]);
      // past the threshold and already alerted: the three statements of any open, nothing more
      const third = await open(ids[2]!);
      expect(third).toHaveLength(3);
      expect(third[2]).toMatch(/FROM audit_append\(/);
      const alerts = await fresh.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_alert WHERE rule = 'many-records' AND user_id = 'dr.busy'",
      );
      expect(alerts.rows[0]!.n).toBe(1);
    });
  },
);
