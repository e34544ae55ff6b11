import { createHash } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import type { AuditEvent } from './record.ts';

export interface VerifyResult {
  ok: boolean;
  events: number;
  /** where the chain first breaks and how */
  problem?: { seq: string; what: string };
}

interface Row {
  seq: string;
  at: string;
  action: string;
  outcome: string;
  user_id: string | null;
  person_id: string | null;
  event: string;
  prev_hash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

/** Walks the whole chain in order and reports the first event that does not fit. */
export async function verifyAuditChain(q: Queryable, batch = 10_000): Promise<VerifyResult> {
  let prevHash = GENESIS;
  let expected = 1n;
  let events = 0;
  for (;;) {
    const { rows } = await q.query<Row>(
      `SELECT seq::text AS seq, at, action, outcome, user_id, person_id::text AS person_id, event, prev_hash, hash
       FROM audit_event WHERE audit_event.seq >= $1 ORDER BY audit_event.seq LIMIT $2`,
      [expected.toString(), batch],
    );
    for (const r of rows) {
      const fail = (what: string): VerifyResult => ({ ok: false, events, problem: { seq: r.seq, what } });
      if (BigInt(r.seq) !== expected)
        return fail(`event ${expected} is missing (deleted), next present is ${r.seq}`);
      if (r.prev_hash !== prevHash)
        return fail('does not follow the event before it (inserted, deleted or reordered)');
      const h = createHash('sha256').update(`${prevHash}|${r.seq}|${r.event}`).digest('hex');
      if (h !== r.hash) return fail('content does not match its hash (changed)');
      const e = JSON.parse(r.event) as AuditEvent;
      if (
        e.action !== r.action ||
        e.outcome !== r.outcome ||
        (e.user?.id ?? null) !== r.user_id ||
        (e.personId ?? null) !== r.person_id
      ) {
        return fail('indexed columns differ from the hashed event (changed)');
      }
      if (new Date(r.at).getTime() !== new Date(e.at).getTime())
        return fail('time differs from the hashed event (changed)');
      prevHash = r.hash;
      expected++;
      events++;
    }
    if (rows.length < batch) break;
  }
  const head = (
    await q.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_head WHERE id = 1')
  ).rows[0];
  if (!head || BigInt(head.seq) !== expected - 1n || head.hash !== prevHash) {
    return {
      ok: false,
      events,
      problem: {
        seq: head?.seq ?? '?',
        what: 'the chain head does not match the last event (events removed from the end)',
      },
    };
  }
  return { ok: true, events };
}
