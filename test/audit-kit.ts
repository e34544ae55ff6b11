/** Helpers for the audit tests: settings in a temporary folder, events written in known places, tampering. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordAuditEvent, type AuditEventInput, type ChainPosition } from '../src/audit/index.ts';
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
          ...(opts.now ? { now: opts.now } : {}),
          ...(opts.settings ? { settings: opts.settings } : {}),
        }),
      );
    return out;
  });
}

/** Tampering needs the append-only triggers out of the way, as an attacker with DDL rights would. */
export async function tamper(db: Database, sql: string): Promise<void> {
  await db.exec(
    `ALTER TABLE audit_event DISABLE TRIGGER USER; ALTER TABLE audit_chain_base DISABLE TRIGGER USER;
     ${sql};
     ALTER TABLE audit_event ENABLE TRIGGER USER; ALTER TABLE audit_chain_base ENABLE TRIGGER USER;`,
  );
}
