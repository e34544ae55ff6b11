/**
 * On PostgreSQL, the application's role (sharedcare_app, made by migration 006) reads and appends
 * to the trail but can neither update, delete nor truncate it, nor move a chain's base, even with
 * the append-only triggers switched off by someone else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dpoService,
  listAlerts,
  recordAuditEvent,
  verifyAuditChain,
  withDatabaseRole,
  writeCheckpoint,
} from '../src/audit/index.ts';
import type { Queryable } from '../src/db/index.ts';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';
import { event, tempAuditSettings, WORKING_HOURS, writeTx } from './audit-kit.ts';

const pg = DB_KINDS.includes('postgres');

describe.skipIf(!pg)('the application database role on postgres', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase('postgres');
    await writeTx(t.db, 3);
  });
  afterAll(async () => t?.drop());

  /** Runs fn as sharedcare_app inside a transaction that is always rolled back. */
  async function asApp(fn: (tx: Queryable) => Promise<unknown>): Promise<unknown> {
    let result: unknown;
    await t.db
      .transaction(async (tx) => {
        await tx.query('SET LOCAL ROLE sharedcare_app');
        result = await fn(tx);
        throw new Error('rollback');
      })
      .catch((err: Error) => {
        if (err.message !== 'rollback') throw err;
      });
    return result;
  }

  it('exists, cannot log in, and is what the server takes with SHAREDCARE_DB_ROLE', async () => {
    const { rows } = await t.db.query<{ rolcanlogin: boolean }>(
      `SELECT rolcanlogin FROM pg_roles WHERE rolname = 'sharedcare_app'`,
    );
    expect(rows).toEqual([{ rolcanlogin: false }]);
  });

  it('appends events, reads and verifies the trail as that role', async () => {
    const seq = await asApp(async (tx) => {
      const pos = await recordAuditEvent(tx, event(9));
      expect((await verifyAuditChain(tx)).ok).toBe(true);
      return pos.seq;
    });
    expect(seq).toMatch(/^\d+$/);
  });

  it.each([
    ['update an event', `UPDATE audit_event SET outcome = 'refused'`],
    ['delete an event', 'DELETE FROM audit_event'],
    ['truncate the trail', 'TRUNCATE audit_event'],
    ['move a chain base', 'UPDATE audit_chain_base SET seq = seq + 1'],
    ['remove a chain base', 'DELETE FROM audit_chain_base'],
    ['remove a chain head', 'DELETE FROM audit_chain_head'],
    ['switch off the append-only trigger', 'ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only'],
    // an alert's review is appended, never set: the role cannot mark one reviewed or reword it
    ['mark an alert reviewed', `UPDATE audit_alert SET summary = 'nothing to see'`],
    ['remove an alert', 'DELETE FROM audit_alert'],
    ['change a review', `UPDATE audit_alert_review SET note = 'x'`],
    ['remove a review', 'DELETE FROM audit_alert_review'],
    ['remove the record of a checkpoint', 'DELETE FROM audit_checkpoint'],
    ['switch off the alerts trigger', 'ALTER TABLE audit_alert DISABLE TRIGGER audit_alert_append_only'],
  ])('cannot %s', async (_what, sql) => {
    await expect(asApp((tx) => tx.query(sql))).rejects.toThrow(/permission denied|must be owner/);
  });

  it('is what a database wrapped with SHAREDCARE_DB_ROLE runs as: it appends but cannot change the trail', async () => {
    const app = withDatabaseRole(t.db, 'sharedcare_app');
    expect((await app.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe('sharedcare_app');
    await app.transaction((tx) => recordAuditEvent(tx, event(10)));
    await expect(app.query(`DELETE FROM audit_event`)).rejects.toThrow(/permission denied/);
    await expect(app.exec(`UPDATE audit_event SET outcome = 'x'`)).rejects.toThrow(/permission denied/);
    expect((await verifyAuditChain(app)).ok).toBe(true);
  });

  it('raises and reviews alerts, and records checkpoints, as that role (appending only)', async () => {
    const app = withDatabaseRole(t.db, 'sharedcare_app');
    const { settings, cleanup } = tempAuditSettings();
    try {
      await app.transaction((tx) =>
        recordAuditEvent(tx, event(11, { action: 'break-glass' }), {
          settings,
          now: WORKING_HOURS,
        }),
      );
      const [alert] = await listAlerts(app);
      const dpo = dpoService(app, settings, {
        personByNhs: () => Promise.reject(new Error('not used')),
        organisationNames: () => Promise.resolve(new Map()),
        fhirBase: 'http://localhost/fhir',
      });
      await expect(
        dpo.reviewAlert({ userId: 'dpo', org: 'X', role: 'sharedcare-dpo' }, alert!.id, 'fine'),
      ).resolves.toMatchObject({ status: 'reviewed' });
      expect((await writeCheckpoint(app, settings))?.n).toBe(1);
      expect(await verifyAuditChain(app, { settings })).toMatchObject({ ok: true });
    } finally {
      cleanup();
    }
  });

  it('can still do its other work (e.g. write clinical tables)', async () => {
    await expect(asApp((tx) => tx.query(`SELECT count(*) FROM clinical_item`))).resolves.toBeDefined();
    await expect(
      asApp((tx) => tx.query(`SELECT count(*) FROM audit_alert_review, audit_checkpoint`)),
    ).resolves.toBeDefined();
  });
});
