/**
 * Can the trail take a write right now? Appends a probe event exactly as a read's audit record is
 * appended (same function, same role, same chain-head lock), then rolls the transaction back, so
 * the trail is unchanged. Readiness (GET /ready) uses it: a server that cannot audit cannot serve.
 */
import type { Database } from '../db/index.ts';

class ProbeRollback extends Error {}

export async function probeAuditWrite(db: Database): Promise<void> {
  const at = new Date().toISOString();
  const event = JSON.stringify({ action: 'readiness.probe', outcome: 'success', at });
  try {
    await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ seq: string | null }>(
        `SELECT o_seq::text AS seq FROM audit_append($1, $2::timestamptz, $3, $4, NULL, NULL, NULL, NULL)`,
        [event, at, 'readiness.probe', 'success'],
      );
      if (!rows[0]?.seq) throw new Error('audit chain head is missing');
      throw new ProbeRollback();
    });
  } catch (err) {
    if (!(err instanceof ProbeRollback)) throw err;
  }
}
