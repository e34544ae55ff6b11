/**
 * Pruning old segments of the trail while keeping it verifiable, tampering with the checkpoint
 * files themselves, and the legacy chain (events written before the chains were partitioned).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  auditRetentionCutoff,
  pruneAuditTrail,
  verifyAuditChain,
  writeCheckpoint,
  type ChainPosition,
} from '../src/audit/index.ts';
import { stableStringify } from '../src/fhir/index.ts';
import type { AuditConfig } from '../src/config/index.ts';
import { createHash } from 'node:crypto';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';
import { PERSON, tamper, tempAuditSettings, writeTx } from './audit-kit.ts';

const OLD = new Date('2001-03-01T10:00:00Z');

describe.each(DB_KINDS)('audit retention and checkpoints on %s', (kind) => {
  let t: TestDatabase;
  let settings: AuditConfig;
  let cleanup: () => void;
  let old: ChainPosition[];
  let recent: ChainPosition[];

  beforeEach(async () => {
    t = await freshDatabase(kind);
    ({ settings, cleanup } = tempAuditSettings());
    old = await writeTx(t.db, 4, { settings, now: OLD });
    recent = await writeTx(t.db, 3, { settings, from: 10 });
  });
  afterEach(async () => {
    await t.drop();
    cleanup();
  });

  const count = async () =>
    (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event')).rows[0]!.n;
  const verify = () => verifyAuditChain(t.db, { settings });

  it('keeps the trail longer than clinical records by default (26 years)', () => {
    expect(settings.retentionYears).toBe(26);
    expect(auditRetentionCutoff(settings, new Date('2030-06-01T00:00:00Z')).toISOString()).toBe(
      '2004-06-01T00:00:00.000Z',
    );
  });

  it('a dry run says what would go and removes nothing', async () => {
    const r = await pruneAuditTrail(t.db, { before: new Date('2010-01-01'), dryRun: true, settings });
    expect(r).toMatchObject({
      dryRun: true,
      removed: 4,
      chains: [{ chain: old[0]!.chain, from: '1', to: '4' }],
    });
    expect(await count()).toBe(7);
  });

  it('removes whole old segments, records the new start in a signed checkpoint, and still verifies', async () => {
    const r = await pruneAuditTrail(t.db, { before: new Date('2010-01-01'), settings });
    expect(r.removed).toBe(4);
    expect(r.checkpoint).toMatch(/checkpoint-\d{8}\.jws/);
    expect(await count()).toBe(7 - 4 + 1); // the prune itself is recorded
    const v = await verify();
    expect(v.problems).toEqual([]);
    expect(v.chains.find((c) => c.chain === old[0]!.chain)).toMatchObject({ base: '4' });
    // recent events are untouched
    const { rows } = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM audit_event WHERE chain = $1',
      [recent[0]!.chain],
    );
    expect(rows[0]!.n).toBeGreaterThanOrEqual(3);
  });

  it('allows deleting only what lies below a chain base, and a base only moves forward', async () => {
    await expect(t.db.query('DELETE FROM audit_event WHERE chain = $1', [recent[0]!.chain])).rejects.toThrow(
      /append-only/,
    );
    await pruneAuditTrail(t.db, { before: new Date('2010-01-01'), settings });
    await expect(
      t.db.query('UPDATE audit_chain_base SET seq = 0 WHERE chain = $1', [old[0]!.chain]),
    ).rejects.toThrow(/forward/);
  });

  it('refuses to prune a trail that does not verify (that would erase the evidence)', async () => {
    await tamper(
      t.db,
      `UPDATE audit_event SET outcome = 'refused' WHERE chain = ${old[0]!.chain} AND chain_seq = 2`,
    );
    await expect(pruneAuditTrail(t.db, { before: new Date('2010-01-01'), settings })).rejects.toThrow(
      /does not verify/,
    );
  });

  it('finds events removed from the start of a chain, with its base moved, but no signed checkpoint for it', async () => {
    const c = old[0]!.chain;
    const third = (
      await t.db.query<{ hash: string }>('SELECT hash FROM audit_event WHERE chain = $1 AND chain_seq = 3', [
        c,
      ])
    ).rows[0]!.hash;
    await tamper(
      t.db,
      `UPDATE audit_chain_base SET seq = 3, hash = '${third}' WHERE chain = ${c};
       DELETE FROM audit_event WHERE chain = ${c} AND chain_seq <= 3`,
    );
    expect((await verify()).problem).toMatchObject({ chain: c, what: expect.stringMatching(/start/) });
  });

  it('finds a checkpoint file edited, or one deleted from the middle', async () => {
    await writeCheckpoint(t.db, settings);
    await writeTx(t.db, 1, { settings });
    await writeCheckpoint(t.db, settings);
    await writeTx(t.db, 1, { settings });
    await writeCheckpoint(t.db, settings);
    const dir = path.join(settings.checkpointDir, readdirSync(settings.checkpointDir)[0]!);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.jws'))
      .sort();
    expect(files).toHaveLength(3);
    expect((await verify()).checkpoints.count).toBe(3);

    const last = path.join(dir, files[2]!);
    const [h, p, s] = readFileSync(last, 'utf8').trim().split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { heads: { hash: string }[] };
    payload.heads[1]!.hash = 'f'.repeat(64);
    writeFileSync(last, `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}\n`);
    expect((await verify()).problems.map((x) => x.what)).toContainEqual(
      expect.stringMatching(/does not carry a valid signature/),
    );

    // the database recorded every checkpoint written: deleting the latest ones is seen, and the
    // next checkpoint continues the chain rather than taking their numbers
    rmSync(last);
    rmSync(path.join(dir, files[1]!));
    await writeTx(t.db, 1, { settings });
    expect((await writeCheckpoint(t.db, settings))?.n).toBe(4);
    expect((await verify()).problems.map((x) => x.checkpoint)).toEqual([2, 3]);
    rmSync(path.join(dir, files[0]!));
    expect((await verify()).problem?.what).toMatch(/checkpoint 1 .*is missing/);
  });

  it('verifies events written before the chains were partitioned (the legacy chain), and finds one changed', async () => {
    const zero = '0'.repeat(64);
    let prev = zero;
    const values: string[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      const at = `2020-01-0${seq}T00:00:00.000Z`;
      const ev = stableStringify({
        action: 'record.open',
        at,
        outcome: 'success',
        personId: PERSON,
        user: { id: 'old', org: 'RX1', role: 'R8000' },
      });
      const hash = createHash('sha256').update(`${prev}|${seq}|${ev}`).digest('hex');
      values.push(
        `(0, ${seq}, '${at}', 'record.open', 'success', 'old', 'RX1', '${PERSON}', '${ev}', '${prev}', '${hash}')`,
      );
      prev = hash;
    }
    await t.db.exec(
      `INSERT INTO audit_event (chain, chain_seq, at, action, outcome, user_id, user_org, person_id, event, prev_hash, hash) VALUES ${values.join(',')};
       UPDATE audit_chain_head SET seq = 3, hash = '${prev}' WHERE chain = 0`,
    );
    expect(await verify()).toMatchObject({ ok: true, events: 10 });
    await tamper(t.db, `UPDATE audit_event SET user_id = 'other' WHERE chain = 0 AND chain_seq = 2`);
    expect((await verify()).problem).toMatchObject({
      chain: 0,
      seq: '2',
      what: expect.stringMatching(/indexed columns/),
    });
  });
});
