/**
 * The HL7 v2 order lock (src/ingest/hl7v2/order-lock.ts): one transaction-level advisory lock per
 * (source, patient), stable across processes, taken in ascending order so that two batches sharing
 * patients wait for each other instead of deadlocking. Concurrency on real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockMessageOrder, orderLockKey, orderLockKeys } from '../src/ingest/hl7v2/order-lock.ts';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';

describe('order lock keys', () => {
  it('are the same 64-bit number for the same source and patient in every process, and differ otherwise', () => {
    expect(orderLockKey('pas|H1')).toBe(orderLockKey('pas|H1'));
    expect(orderLockKey('pas|H1')).not.toBe(orderLockKey('pas|H2'));
    expect(orderLockKey('pas|H1')).not.toBe(orderLockKey('lab|H1'));
    const k = orderLockKey('pas|H1');
    expect(k >= -(2n ** 63n) && k < 2n ** 63n).toBe(true);
  });

  it('come once each, in ascending order', () => {
    const keys = orderLockKeys(['b|2', 'a|1', 'b|2', 'c|3']);
    expect(keys).toHaveLength(3);
    expect([...keys].sort((x, y) => (x < y ? -1 : 1))).toEqual(keys);
  });
});

describe.skipIf(!DB_KINDS.includes('postgres'))('the order lock on PostgreSQL', () => {
  let fresh: TestDatabase;
  beforeAll(async () => {
    fresh = await freshDatabase('postgres');
  }, 60_000);
  afterAll(async () => fresh?.drop());

  it('makes a second batch for the same patient wait until the first commits', async () => {
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const first = fresh.db.transaction(async (tx) => {
      await lockMessageOrder(tx, ['pas|H1']);
      locked();
      await held;
      events.push('first commits');
    });
    await isLocked;
    const second = fresh.db.transaction(async (tx) => {
      await lockMessageOrder(tx, ['pas|H9', 'pas|H1']);
      events.push('second applies');
    });
    // the second is queued behind the first's lock (PostgreSQL shows it waiting); then the first ends
    for (;;) {
      const { rows } = await fresh.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      if (rows[0]!.n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    events.push('released');
    release();
    await Promise.all([first, second]);
    expect(events).toEqual(['released', 'first commits', 'second applies']);
  });

  it('lets batches that share patients, listed in opposite orders, all finish without a deadlock', async () => {
    const patients = ['pas|A', 'pas|B', 'pas|C', 'lab|A'];
    const runs = Array.from({ length: 16 }, (_, i) =>
      fresh.db.transaction(async (tx) => {
        await lockMessageOrder(tx, i % 2 ? patients : [...patients].reverse());
        await tx.query('SELECT pg_sleep(0.005)');
        return i;
      }),
    );
    expect((await Promise.all(runs)).length).toBe(16);
  });
});
