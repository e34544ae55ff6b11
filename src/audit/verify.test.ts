import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS, freshDatabase, type TestDatabase } from '../../test/kit.ts';
import { recordAuditEvent, verifyAuditChain } from './index.ts';

const PERSON = '6f1b8a0e-0000-4000-8000-000000000001';

describe.each(DB_KINDS)('audit chain on %s', (kind) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await freshDatabase(kind);
    await t.db.transaction(async (tx) => {
      for (let i = 0; i < 12; i++) {
        await recordAuditEvent(tx, {
          action: 'record.open',
          outcome: 'success',
          user: { id: `u${i}`, org: 'RX1', role: 'R8000' },
          personId: PERSON,
          returnedIds: [`id-${i}`],
        });
      }
    });
  });
  afterEach(async () => t.drop());

  /** Tampering needs the append-only trigger out of the way, as an attacker with DDL rights would. */
  async function tamper(sql: string): Promise<void> {
    await t.db.exec(
      `ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only; ${sql}; ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only;`,
    );
  }

  it('verifies an intact chain', async () => {
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, events: 12 });
  });

  it('refuses updates and deletes from the application', async () => {
    await expect(t.db.query(`UPDATE audit_event SET outcome = 'refused' WHERE seq = 2`)).rejects.toThrow(
      /append-only/,
    );
    await expect(t.db.query(`DELETE FROM audit_event WHERE seq = 2`)).rejects.toThrow(/append-only/);
  });

  it('detects a changed event and says which', async () => {
    await tamper(
      `UPDATE audit_event SET event = replace(event, '"u2"', '"someone-else"'), user_id = 'someone-else' WHERE seq = 3`,
    );
    const r = await verifyAuditChain(t.db);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ seq: '3' });
    expect(r.problem?.what).toMatch(/changed/);
  });

  it('detects an indexed column changed without the event text', async () => {
    await tamper(`UPDATE audit_event SET person_id = '6f1b8a0e-0000-4000-8000-000000000002' WHERE seq = 4`);
    expect((await verifyAuditChain(t.db)).problem).toMatchObject({ seq: '4' });
  });

  it('detects a deleted event', async () => {
    await tamper('DELETE FROM audit_event WHERE seq = 2');
    const r = await verifyAuditChain(t.db);
    expect(r.ok).toBe(false);
    expect(r.problem?.what).toMatch(/event 2 is missing/);
  });

  it('detects events removed from the end', async () => {
    await tamper('DELETE FROM audit_event WHERE seq = 12');
    expect((await verifyAuditChain(t.db)).problem?.what).toMatch(/head/);
  });

  it('detects an inserted event', async () => {
    await tamper(
      'UPDATE audit_event SET seq = seq + 100 WHERE seq >= 4; UPDATE audit_event SET seq = seq - 99 WHERE seq >= 104',
    );
    await tamper(
      `INSERT INTO audit_event (seq, at, action, outcome, user_id, user_org, person_id, event, prev_hash, hash)
       SELECT 4, at, action, outcome, user_id, user_org, person_id, event, prev_hash, hash FROM audit_event WHERE seq = 3`,
    );
    const r = await verifyAuditChain(t.db);
    expect(r.ok).toBe(false);
    expect(r.problem?.seq).toBe('4');
  });

  it('detects reordered events', async () => {
    await tamper(
      'UPDATE audit_event SET seq = 100 WHERE seq = 2; UPDATE audit_event SET seq = 2 WHERE seq = 3; UPDATE audit_event SET seq = 3 WHERE seq = 100',
    );
    const r = await verifyAuditChain(t.db);
    expect(r.ok).toBe(false);
    expect(r.problem?.seq).toBe('2');
  });
});
