/**
 * Intake appends its audit events (a record linked to a person, or moved to another) as the last
 * statement of its transaction. An append locks the head of one of the audit trail's sixteen
 * chains until the transaction commits, and every record open whose own append falls on that chain
 * waits for it: appended first, a large request held its chain for all of its work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import type { Database } from '../src/db/index.ts';
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
import { recording, type Captured } from './scale-out-rule.ts';

describe.skipIf(!DB_KINDS.includes('postgres'))("intake's audit append (PostgreSQL)", () => {
  let fresh: TestDatabase;
  let app: App;
  let statements: Captured[];

  beforeAll(async () => {
    fresh = await freshDatabase('postgres');
    await registerRiverside(fresh.db);
    const rec = recording(fresh.db);
    const transaction: Database['transaction'] = async (fn) => {
      rec.statements.push({ sql: 'BEGIN', params: undefined });
      const out = await rec.db.transaction(fn);
      rec.statements.push({ sql: 'COMMIT', params: undefined });
      return out;
    };
    statements = rec.statements;
    app = await createApp(testConfig(), { db: { ...rec.db, kind: fresh.db.kind, transaction } });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await fresh?.drop();
  });

  it('comes last in the transaction of a request that links a new person, after the items are stored', async () => {
    statements.length = 0;
    const res = await postFhir(appHandle(app, testConfig()), 'gp-riverside', firstRecord());
    expect(res.status, res.text).toBe(200);
    const sql = statements.map((s) => s.sql.replace(/\s+/g, ' ').trim());
    const begin = sql.indexOf('BEGIN');
    const commit = sql.indexOf('COMMIT', begin);
    expect(begin).toBeGreaterThanOrEqual(0);
    const inTx = sql.slice(begin + 1, commit);
    const appends = inTx.filter((s) => /\baudit_append\(/.test(s));
    expect(appends, 'one append, for the new link').toHaveLength(1);
    expect(inTx.at(-1)).toMatch(/\baudit_append\(/);
    expect(inTx.findIndex((s) => /INSERT INTO clinical_item\b/.test(s))).toBeGreaterThanOrEqual(0);
    const { rows } = await fresh.db.query<{ action: string }>(
      `SELECT action FROM audit_event WHERE action = 'identity.link'`,
    );
    expect(rows).toHaveLength(1);
  });
});
