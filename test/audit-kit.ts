/** Helpers for the audit tests: settings in a temporary folder, events written in known places, tampering. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventHash, recordAuditEvent, type AuditEventInput, type ChainPosition } from '../src/audit/index.ts';
import { defaultAuditConfig, type AuditConfig } from '../src/config/index.ts';
import type { Database } from '../src/db/index.ts';

export const PERSON = '6f1b8a0e-0000-4000-8000-000000000001';

export function tempAuditSettings(): { settings: AuditConfig; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-audit-'));
  return { settings: defaultAuditConfig(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function event(i: number, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    action: 'record.open',
    outcome: 'success',
    user: { id: `u${i}`, org: 'RX1', role: 'R8000' },
    personId: PERSON,
    returnedIds: [`id-${i}`],
    ...extra,
  };
}

/** a Wednesday morning in London: no out-of-hours alert (whose audit.alert event would share the chain) */
export const WORKING_HOURS = new Date('2026-03-04T10:00:00Z');

/** Writes `n` events in one transaction (so on one chain, consecutively) and returns their places. */
export async function writeTx(
  db: Database,
  n: number,
  opts: { now?: Date; settings?: AuditConfig; from?: number } = {},
): Promise<ChainPosition[]> {
  return db.transaction(async (tx) => {
    const out: ChainPosition[] = [];
    for (let i = 0; i < n; i++)
      out.push(
        await recordAuditEvent(tx, event((opts.from ?? 0) + i), {
          now: opts.now ?? WORKING_HOURS,
          ...(opts.settings ? { settings: opts.settings } : {}),
        }),
      );
    return out;
  });
}

const GUARDED = ['audit_event', 'audit_chain_base', 'audit_alert', 'audit_alert_review', 'audit_checkpoint'];

/** Tampering needs the append-only triggers out of the way, as an attacker with DDL rights would. */
export async function tamper(db: Database, sql: string): Promise<void> {
  const all = (what: string) => GUARDED.map((t) => `ALTER TABLE ${t} ${what} TRIGGER USER;`).join(' ');
  await db.exec(`${all('DISABLE')} ${sql}; ${all('ENABLE')}`);
}

interface EventRow {
  chain: number;
  chain_seq: string;
  at: Date | string;
  action: string;
  outcome: string;
  user_id: string | null;
  person_id: string | null;
  event: string;
  prev_hash: string;
  hash: string;
}

/** The events of one chain, in order, as stored. */
export async function chainRows(db: Database, chain: number): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT chain::int AS chain, chain_seq::text AS chain_seq, at, action, outcome, user_id,
            person_id::text AS person_id, event, prev_hash, hash
     FROM audit_event WHERE chain = $1 ORDER BY chain_seq`,
    [chain],
  );
  return rows;
}

/** An event's hash recomputed from its columns, after `prevHash`. */
export const rehash = (r: EventRow, prevHash: string): string =>
  eventHash({
    prevHash,
    chainSeq: r.chain_seq,
    atMs: new Date(r.at).getTime(),
    action: r.action,
    outcome: r.outcome,
    userId: r.user_id,
    personId: r.person_id,
    event: r.event,
  });

/**
 * The attack a checkpoint exists for: rewrites event `from` (1-based) of `chain` and every later
 * one (another user named), re-hashes them all and moves the head, so the chain is consistent.
 */
export async function rewriteTail(db: Database, chain: number, from: number): Promise<void> {
  const rs = await chainRows(db, chain);
  let prev = rs[from - 2]?.hash ?? rs[0]!.prev_hash;
  const sql: string[] = [];
  for (const r of rs.slice(from - 1)) {
    const changed = { ...r, event: r.event.replace(/"u\d+"/, '"nobody"'), user_id: 'nobody' };
    const hash = rehash(changed, prev);
    sql.push(
      `UPDATE audit_event SET event = '${changed.event}', user_id = 'nobody', prev_hash = '${prev}', hash = '${hash}' WHERE chain = ${chain} AND chain_seq = ${r.chain_seq}`,
    );
    prev = hash;
  }
  sql.push(`UPDATE audit_chain_head SET hash = '${prev}' WHERE chain = ${chain}`);
  await tamper(db, sql.join(';\n'));
}

/** The other attack: cuts a chain after event `keep` and moves its head back to it. */
export async function cutTail(db: Database, chain: number, keep: number): Promise<void> {
  const base = await db.query<{ hash: string }>('SELECT hash FROM audit_chain_base WHERE chain = $1', [
    chain,
  ]);
  const k = (await chainRows(db, chain))[keep - 1] ?? { hash: base.rows[0]!.hash, prev_hash: '' };
  await tamper(
    db,
    `DELETE FROM audit_event WHERE chain = ${chain} AND chain_seq > ${keep};
     UPDATE audit_chain_head SET seq = ${keep}, hash = '${k.hash}', prev_hash = '${k.prev_hash}' WHERE chain = ${chain}`,
  );
}
