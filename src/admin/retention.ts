/**
 * A retention run: the clinical record's periods (src/retention) and then the audit trail's own,
 * longer one (src/audit). Both remove data, so they run on the owner's connection.
 */
import { auditRetentionCutoff, pruneAuditTrail, type PruneResult } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { runRetention, type RetentionReport } from '../retention/index.ts';
import type { Actor } from './index.ts';

export type RetentionRunReport = RetentionReport & { auditTrail: PruneResult };

export async function retentionRun(
  ownerDb: Database,
  config: Config,
  actor: Actor,
  input: { dryRun: boolean; asOf?: string },
): Promise<RetentionRunReport> {
  const report = await runRetention(ownerDb, config.retention, actor, input);
  const auditTrail = await pruneAuditTrail(ownerDb, {
    before: auditRetentionCutoff(),
    dryRun: input.dryRun,
    user: { id: actor.userId, org: actor.org, role: actor.role },
  });
  return { ...report, auditTrail };
}
