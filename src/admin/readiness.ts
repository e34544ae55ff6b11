/**
 * Readiness: can this server serve a governed read now? The database answers, its schema is at the
 * migrations this code expects, and the audit trail takes a write as the serving role (probed in a
 * transaction that is rolled back, so probes never fill the trail). The first failure is the reason.
 */
import { probeAuditWrite } from '../audit/index.ts';
import { pendingMigrations, type Database } from '../db/index.ts';

export type Readiness = { ready: true } | { ready: false; reason: string };

export async function checkReadiness(db: Database): Promise<Readiness> {
  let pending: string[];
  try {
    pending = await pendingMigrations(db);
  } catch {
    return { ready: false, reason: 'the database does not answer' };
  }
  if (pending.length > 0)
    return {
      ready: false,
      reason: `${pending.length} migration(s) not applied (${pending.join(', ')}): run the migrations, then restart`,
    };
  try {
    await probeAuditWrite(db);
  } catch {
    return { ready: false, reason: 'the audit trail cannot be written, so no read can be served' };
  }
  return { ready: true };
}
