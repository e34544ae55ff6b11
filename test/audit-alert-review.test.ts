/**
 * Alerts and their reviews as evidence, on PGlite and PostgreSQL: an alert never changes, a review
 * is appended (the alert is open until it has one), and `audit verify` finds an alert or a review
 * changed, removed or forged by someone who can switch the append-only triggers off.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  dpoService,
  listAlerts,
  recordAuditEvent,
  verifyAuditChain,
  type DpoService,
} from '../src/audit/index.ts';
import type { AuditConfig } from '../src/config/index.ts';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';
import { event, tamper, tempAuditSettings, WORKING_HOURS } from './audit-kit.ts';

const DPO = { userId: 'dpo.one', org: 'Y90001', role: 'sharedcare-dpo' };

describe.each(DB_KINDS)('alert reviews on %s', (kind) => {
  let t: TestDatabase;
  let settings: AuditConfig;
  let cleanup: () => void;
  let dpo: DpoService;
  let alerts: string[];

  beforeEach(async () => {
    t = await freshDatabase(kind);
    ({ settings, cleanup } = tempAuditSettings());
    dpo = dpoService(t.db, settings, {
      personByNhs: () => Promise.reject(new Error('not used')),
      organisationNames: () => Promise.resolve(new Map()),
      fhirBase: 'http://localhost/fhir',
    });
    for (const i of [1, 2, 3])
      await t.db.transaction((tx) =>
        recordAuditEvent(tx, event(i, { action: 'break-glass', detail: 'emergency' }), {
          settings,
          now: WORKING_HOURS,
        }),
      );
    alerts = (await listAlerts(t.db, { status: 'all' })).map((x) => x.id);
    expect(alerts).toHaveLength(3);
    await dpo.reviewAlert(DPO, alerts[0]!, 'Checked with the ward: appropriate.');
  });
  afterEach(async () => {
    await t.drop();
    cleanup();
  });

  const verify = () => verifyAuditChain(t.db, { settings });

  it('keeps the review as a row of its own: the alert is reviewed, once, and verifies', async () => {
    expect((await listAlerts(t.db, { status: 'reviewed' })).map((x) => x.id)).toEqual([alerts[0]]);
    expect((await listAlerts(t.db, { status: 'reviewed' }))[0]).toMatchObject({
      status: 'reviewed',
      reviewedBy: 'dpo.one',
      reviewNote: 'Checked with the ward: appropriate.',
    });
    await expect(dpo.reviewAlert(DPO, alerts[0]!, 'again')).rejects.toThrow(/already been reviewed/);
    expect((await listAlerts(t.db)).map((x) => x.id).sort()).toEqual([alerts[1], alerts[2]].sort());
    expect(await verify()).toMatchObject({ ok: true, problems: [] });
  });

  it('refuses to change or remove an alert or a review', async () => {
    for (const sql of [
      `UPDATE audit_alert SET summary = 'nothing to see'`,
      'DELETE FROM audit_alert',
      `UPDATE audit_alert_review SET note = 'x'`,
      'DELETE FROM audit_alert_review',
      'TRUNCATE audit_alert_review',
    ])
      await expect(t.db.query(sql), sql).rejects.toThrow(/append-only/);
  });

  it("finds an alert's summary changed, and names the alert", async () => {
    await tamper(t.db, `UPDATE audit_alert SET summary = 'nothing to see' WHERE id = '${alerts[1]}'`);
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ alert: alerts[1], what: expect.stringMatching(/alert .* changed/) });
  });

  it('finds a review removed (the alert would look open again)', async () => {
    await tamper(t.db, `DELETE FROM audit_alert_review WHERE alert_id = '${alerts[0]}'`);
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.problem?.what).toMatch(/review .*removed/);
  });

  it('finds a review forged (no event records it), and one whose note was changed', async () => {
    await tamper(
      t.db,
      `INSERT INTO audit_alert_review (alert_id, at, reviewed_by, note) VALUES ('${alerts[1]}', now(), 'dpo.one', 'fine')`,
    );
    expect((await verify()).problem).toMatchObject({
      alert: alerts[1],
      what: expect.stringMatching(/review .*not recorded/),
    });
    await tamper(t.db, `DELETE FROM audit_alert_review WHERE alert_id = '${alerts[1]}'`);
    await tamper(t.db, `UPDATE audit_alert_review SET note = 'fine' WHERE alert_id = '${alerts[0]}'`);
    expect((await verify()).problem).toMatchObject({
      alert: alerts[0],
      what: expect.stringMatching(/review .*changed/),
    });
  });

  it('finds an alert removed', async () => {
    await tamper(t.db, `DELETE FROM audit_alert WHERE id = '${alerts[2]}'`);
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.problem?.what).toMatch(/alert .*removed/);
  });
});
