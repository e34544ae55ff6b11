/**
 * Intake appends its audit events (a record linked to a person, or moved to another) as the last
 * statement of its transaction. An append locks the head of one of the audit trail's sixteen
 * chains until the transaction commits, and every record open whose own append falls on that chain
 * waits for it: appended first, a large request held its chain for all of its work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import { firstRecord } from './fhir-data.ts';
import {
  appHandle,
  DB_KINDS,
  freshDatabase,
  registerRiverside,
  testConfig,
  type TestDatabase,
} from './kit.ts';
import { postFhir } from './http.ts';
import { recordingTransactions } from './scale-out-rule.ts';

describe.each(DB_KINDS)("intake's audit append on %s", (kind) => {
  let fresh: TestDatabase;
  let app: App;
  let watched: ReturnType<typeof recordingTransactions>;

  beforeAll(async () => {
    fresh = await freshDatabase(kind);
    await registerRiverside(fresh.db);
    watched = recordingTransactions(fresh.db);
    app = await createApp(testConfig(), { db: watched.db });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await fresh?.drop();
  });

  it('comes last in the transaction of a request that links a new person, after the items are stored', async () => {
    watched.statements.length = 0;
    const res = await postFhir(appHandle(app, testConfig()), 'gp-riverside', firstRecord());
    expect(res.status, res.text).toBe(200);
    const inTx = watched.transactions().find((t) => t.some((s) => /INSERT INTO clinical_item\b/.test(s)));
    expect(inTx, 'the request ran in a transaction that stored its items').toBeDefined();
    const appends = inTx!.filter((s) => /\baudit_append\(/.test(s));
    expect(appends, 'one append, for the new link').toHaveLength(1);
    expect(inTx!.at(-1)).toMatch(/\baudit_append\(/);
    const { rows } = await fresh.db.query<{ action: string }>(
      `SELECT action FROM audit_event WHERE action = 'identity.link'`,
    );
    expect(rows).toHaveLength(1);
  });
});
