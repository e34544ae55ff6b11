/**
 * The trail's tamper evidence, on PGlite and PostgreSQL: every kind of tampering named in the
 * issue (change, delete, insert, reorder, truncate, a rewritten and re-hashed end) is caught by
 * `verify`, which says where (chain and place).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  recordAuditEvent,
  recordAuditEvents,
  verifyAuditChain,
  writeCheckpoint,
  type ChainPosition,
} from '../src/audit/index.ts';
import type { AuditConfig } from '../src/config/index.ts';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';
import {
  chainRows,
  cutTail,
  event as auditEvent,
  rehash,
  rewriteTail as rewriteTailOf,
  tamper,
  tempAuditSettings,
  WORKING_HOURS,
  writeTx,
} from './audit-kit.ts';

describe.each(DB_KINDS)('audit chains on %s', (kind) => {
  let t: TestDatabase;
  let settings: AuditConfig;
  let cleanup: () => void;
  let a: ChainPosition[];
  let b: ChainPosition[];

  beforeEach(async () => {
    t = await freshDatabase(kind);
    ({ settings, cleanup } = tempAuditSettings());
    a = await writeTx(t.db, 8, { settings });
    b = await writeTx(t.db, 5, { settings, from: 100 });
    await writeTx(t.db, 3, { settings, from: 200 });
  });
  afterEach(async () => {
    await t.drop();
    cleanup();
  });

  const verify = () => verifyAuditChain(t.db, { settings });
  const rows = (chain: number) => chainRows(t.db, chain);

  it('computes the same hash in SQL (writer) and TypeScript, and links each event to the one before', async () => {
    for (const chain of new Set([a[0]!.chain, b[0]!.chain])) {
      const rs = await rows(chain);
      for (const [i, r] of rs.entries()) {
        if (i > 0) expect(r.prev_hash).toBe(rs[i - 1]!.hash);
        expect(rehash(r, r.prev_hash)).toBe(r.hash);
      }
    }
  });

  it("puts one transaction's events consecutively on one chain, and spreads transactions over chains", async () => {
    expect(new Set(a.map((p) => p.chain)).size).toBe(1);
    expect(a.map((p) => Number(p.chainSeq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(a[0]!.chain).not.toBe(b[0]!.chain);
    expect(a[0]!.chain).toBeGreaterThanOrEqual(1);
  });

  it('appends a batch of events in one call in order, consecutively on one chain, and it verifies', async () => {
    const batch = await t.db.transaction((tx) =>
      recordAuditEvents(
        tx,
        [300, 301, 302, 303].map((i) => auditEvent(i)),
        { settings, now: WORKING_HOURS },
      ),
    );
    expect(new Set(batch.map((p) => p.chain)).size).toBe(1);
    const seqs = batch.map((p) => Number(p.chainSeq));
    expect(seqs).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2, seqs[0]! + 3]);
    const rs = (await rows(batch[0]!.chain)).slice(-4);
    expect(rs.map((r) => r.user_id)).toEqual(['u300', 'u301', 'u302', 'u303']);
    for (const [i, r] of rs.entries()) {
      expect(r.hash).toBe(batch[i]!.hash);
      if (i > 0) expect(r.prev_hash).toBe(rs[i - 1]!.hash);
    }
    expect(await verify()).toMatchObject({ ok: true, events: 20 });
  });

  it('verifies an intact trail, and warns that there is no checkpoint yet', async () => {
    const r = await verify();
    expect(r).toMatchObject({ ok: true, events: 16, problems: [] });
    expect(r.warnings.join()).toMatch(/no signed checkpoint/);
  });

  it('refuses updates, deletes and truncation from the application', async () => {
    await expect(t.db.query(`UPDATE audit_event SET outcome = 'refused' WHERE seq = 2`)).rejects.toThrow(
      /append-only/,
    );
    await expect(t.db.query(`DELETE FROM audit_event WHERE seq = 2`)).rejects.toThrow(/append-only/);
    await expect(t.db.query(`TRUNCATE audit_event`)).rejects.toThrow(/append-only/);
    await expect(
      t.db.query(`UPDATE audit_chain_base SET seq = 0 WHERE chain = 1 AND seq = 0`),
    ).resolves.toBeDefined();
    await expect(t.db.query(`DELETE FROM audit_chain_base WHERE chain = 1`)).rejects.toThrow(/forward/);
  });

  it('finds a changed event and says where', async () => {
    const p = a[3]!;
    await tamper(
      t.db,
      `UPDATE audit_event SET event = replace(event, '"u3"', '"someone-else"') WHERE chain = ${p.chain} AND chain_seq = ${p.chainSeq}`,
    );
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({
      chain: p.chain,
      seq: p.chainSeq,
      what: expect.stringMatching(/changed/),
    });
  });

  it('finds an indexed column changed without the event text (a report would miss the event)', async () => {
    const p = a[4]!;
    await tamper(
      t.db,
      `UPDATE audit_event SET person_id = '6f1b8a0e-0000-4000-8000-000000000002' WHERE chain = ${p.chain} AND chain_seq = ${p.chainSeq}`,
    );
    expect((await verify()).problem).toMatchObject({
      chain: p.chain,
      seq: p.chainSeq,
      what: expect.stringMatching(/changed/),
    });
  });

  it('finds a deleted event', async () => {
    const p = a[2]!;
    await tamper(t.db, `DELETE FROM audit_event WHERE chain = ${p.chain} AND chain_seq = ${p.chainSeq}`);
    expect((await verify()).problem).toMatchObject({
      chain: p.chain,
      seq: p.chainSeq,
      what: expect.stringMatching(/event 3 is missing \(deleted\)/),
    });
  });

  it('finds events removed from the end of a chain', async () => {
    const p = a[7]!;
    await tamper(t.db, `DELETE FROM audit_event WHERE chain = ${p.chain} AND chain_seq = ${p.chainSeq}`);
    expect((await verify()).problem).toMatchObject({
      chain: p.chain,
      seq: '8',
      what: expect.stringMatching(/missing from the end/),
    });
  });

  it('finds an inserted event', async () => {
    const c = a[0]!.chain;
    await tamper(
      t.db,
      `UPDATE audit_event SET chain_seq = chain_seq + 100 WHERE chain = ${c} AND chain_seq >= 4;
       UPDATE audit_event SET chain_seq = chain_seq - 99 WHERE chain = ${c} AND chain_seq >= 104;
       INSERT INTO audit_event (chain, chain_seq, at, action, outcome, user_id, user_org, person_id, event, prev_hash, hash)
         SELECT chain, 4, at, action, outcome, user_id, user_org, person_id, event, prev_hash, hash
         FROM audit_event WHERE chain = ${c} AND chain_seq = 3`,
    );
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ chain: c, seq: '4' });
  });

  it('finds reordered events', async () => {
    const c = a[0]!.chain;
    await tamper(
      t.db,
      `UPDATE audit_event SET chain_seq = 100 WHERE chain = ${c} AND chain_seq = 2;
       UPDATE audit_event SET chain_seq = 2 WHERE chain = ${c} AND chain_seq = 3;
       UPDATE audit_event SET chain_seq = 3 WHERE chain = ${c} AND chain_seq = 100`,
    );
    expect((await verify()).problem).toMatchObject({ chain: c, seq: '2' });
  });

  it('finds a truncated table: every chain misses its events', async () => {
    await tamper(t.db, 'TRUNCATE audit_event');
    const r = await verify();
    expect(r.ok).toBe(false);
    const chains = new Set(r.problems.filter((p) => /missing from the end/.test(p.what)).map((p) => p.chain));
    expect(chains).toEqual(new Set([a[0]!.chain, b[0]!.chain, ...chains]));
    expect(chains.size).toBe(3);
  });

  const rewriteTail = (from: number) => rewriteTailOf(t.db, a[0]!.chain, from);

  it('a rewritten and re-hashed end verifies as a chain, and is caught by the signed checkpoint', async () => {
    await writeCheckpoint(t.db, settings);
    await rewriteTail(6);
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problem).toMatchObject({
      chain: a[0]!.chain,
      what: expect.stringMatching(/rewritten: checkpoint 1 .* at 8/),
    });
    // without the checkpoint the chain itself is consistent: that is why checkpoints exist
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it('narrows a rewrite down to the events between two checkpoints', async () => {
    await writeCheckpoint(t.db, settings);
    // transactions take chains in turn: write until one lands on chain a again
    for (let i = 0; i < 17; i++) if ((await writeTx(t.db, 1, { settings }))[0]!.chain === a[0]!.chain) break;
    await writeCheckpoint(t.db, settings);
    await rewriteTail(9);
    expect((await verify()).problem).toMatchObject({
      chain: a[0]!.chain,
      seq: '9',
      what: expect.stringMatching(/event 9 was rewritten: checkpoint 2/),
    });
  });

  it('catches the end of a chain cut off with its head moved back, by the checkpoint', async () => {
    await writeCheckpoint(t.db, settings);
    const c = a[0]!.chain;
    await cutTail(t.db, c, 6);
    const r = await verify();
    expect(r.problems).toHaveLength(1);
    expect(r.problem).toMatchObject({ chain: c, seq: '7', what: expect.stringMatching(/truncated/) });
  });

  it('finds the chain head it advances by its key, not by scanning the head table', async () => {
    // a scan reads every dead version the head table has gathered since its last vacuum, and a
    // busy trail gathers a hundred a second. With the statistics of a real trail's head table
    // (one page), where a scan looks cheapest:
    await t.db.query('ANALYZE audit_chain_head');
    const scans = await t.db.transaction(async (tx) => {
      // the backend's scans not yet reported, before and after this transaction's 20 appends
      const count = async () =>
        (
          await tx.query<{ seq: number; idx: number }>(
            `SELECT coalesce(seq_scan, 0)::int AS seq, coalesce(idx_scan, 0)::int AS idx
             FROM pg_stat_xact_user_tables WHERE relname = 'audit_chain_head'`,
          )
        ).rows[0]!;
      const before = await count();
      for (let i = 0; i < 20; i++)
        await recordAuditEvent(tx, auditEvent(300 + i), { now: WORKING_HOURS, settings });
      const after = await count();
      return { seq: after.seq - before.seq, idx: after.idx - before.idx };
    });
    expect(scans).toEqual({ seq: 0, idx: 20 });
  });
});
