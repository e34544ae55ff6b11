/**
 * Audit retention. The trail is kept longer than the clinical record (audit.retentionYears), and
 * then removed in whole segments from the start of each chain, in a way verification survives:
 *
 * 1. verify first: a trail that does not verify is not pruned (pruning would erase the evidence);
 * 2. each chain's new base is the last event before the cut-off (every later event is kept);
 * 3. a signed checkpoint records the new bases (place and hash) before anything is removed;
 * 4. in one transaction the bases move forward and the events at or below them are deleted (the
 *    append-only trigger allows exactly that) and an 'audit.prune' event records it.
 *
 * Verification then starts each chain at its base and accepts a base only if a signed checkpoint
 * vouches for it. Pruning needs the database owner: the application role may not move bases.
 */
import type { AuditConfig } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { writeCheckpoint, type ChainMark } from './checkpoint.ts';
import { recordAuditEvent } from './record.ts';
import { auditSettings } from './settings.ts';
import type { AuditUser } from './types.ts';
import { verifyAuditChain } from './verify.ts';

export interface PruneOptions {
  /** remove events recorded before this time */
  before: Date;
  dryRun?: boolean;
  settings?: AuditConfig;
  /** who runs it (recorded in the 'audit.prune' event) */
  user?: AuditUser;
}

export interface PruneResult {
  dryRun: boolean;
  before: string;
  removed: number;
  chains: { chain: number; from: string; to: string; removed: number }[];
  checkpoint?: string;
}

/** The cut-off that the retention setting gives today. */
export function auditRetentionCutoff(settings: AuditConfig = auditSettings(), now = new Date()): Date {
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() - settings.retentionYears);
  return d;
}

export async function pruneAuditTrail(db: Database, opts: PruneOptions): Promise<PruneResult> {
  const settings = opts.settings ?? auditSettings();
  const before = opts.before.toISOString();
  const { rows: plan } = await db.query<{ chain: number; base: string; head: string; kept: string | null }>(
    `SELECT b.chain::int AS chain, b.seq::text AS base, h.seq::text AS head,
       (SELECT e.chain_seq FROM audit_event e
        WHERE e.chain = b.chain AND e.chain_seq > b.seq AND e.at >= $1::timestamptz
        ORDER BY e.chain_seq LIMIT 1)::text AS kept
     FROM audit_chain_base b JOIN audit_chain_head h ON h.chain = b.chain ORDER BY b.chain`,
    [before],
  );
  const chains: { chain: number; from: string; to: string; hash: string; removed: number }[] = [];
  for (const p of plan) {
    // everything before the first event kept (or the whole chain, if every event is older)
    const to = p.kept === null ? BigInt(p.head) : BigInt(p.kept) - 1n;
    if (to <= BigInt(p.base)) continue;
    const { rows } = await db.query<{ hash: string }>(
      'SELECT hash FROM audit_event WHERE chain = $1 AND chain_seq = $2',
      [p.chain, String(to)],
    );
    if (!rows[0])
      throw new Error(`audit chain ${p.chain} has no event ${to}: run \`sharedcare audit verify\``);
    chains.push({
      chain: p.chain,
      from: String(BigInt(p.base) + 1n),
      to: String(to),
      hash: rows[0].hash,
      removed: Number(to - BigInt(p.base)),
    });
  }
  const result: PruneResult = {
    dryRun: !!opts.dryRun,
    before,
    removed: chains.reduce((n, c) => n + c.removed, 0),
    chains: chains.map(({ hash: _h, ...c }) => c),
  };
  if (opts.dryRun || chains.length === 0) return result;

  const check = await verifyAuditChain(db, { settings });
  if (!check.ok)
    throw new Error(
      `the audit trail does not verify (${check.problem?.what}); it is not pruned, so that the evidence is kept`,
    );
  const current = await db.query<ChainMark>(
    'SELECT chain::int AS chain, seq::text AS seq, hash FROM audit_chain_base ORDER BY chain',
  );
  const bases = current.rows.map((b) => {
    const c = chains.find((x) => x.chain === b.chain);
    return c ? { chain: b.chain, seq: c.to, hash: c.hash } : b;
  });
  const cp = await writeCheckpoint(db, settings, { bases });
  await db.transaction(async (tx) => {
    for (const c of chains) {
      await tx.query('UPDATE audit_chain_base SET seq = $2, hash = $3, pruned_at = now() WHERE chain = $1', [
        c.chain,
        c.to,
        c.hash,
      ]);
      await tx.query('DELETE FROM audit_event WHERE chain = $1 AND chain_seq <= $2', [c.chain, c.to]);
    }
    await recordAuditEvent(tx, {
      action: 'audit.prune',
      outcome: 'success',
      ...(opts.user ? { user: opts.user } : {}),
      detail: `removed ${result.removed} events recorded before ${before}; checkpoint ${cp?.n ?? '-'}`,
    });
  });
  return { ...result, ...(cp ? { checkpoint: cp.file } : {}) };
}
