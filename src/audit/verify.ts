/**
 * `audit verify`: is every event still there, unchanged, in its place, and is the end of every
 * chain where the signed checkpoints say it was? Reports every problem found (up to a limit), each
 * located by chain and place, and the first one for a one-line answer.
 *
 * Heads are read first and each chain is walked only up to its head, so events committed while
 * verification runs are left for next time rather than mistaken for insertions.
 */
import type { AuditConfig } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import { genesisHash, LEGACY_CHAIN, LEGACY_GENESIS } from './canonical.ts';
import { chainMarks, trailId, type ChainMark, type LoadedCheckpoint } from './checkpoint.ts';
import type { VerifyProblem } from './types.ts';
import { verifyAlerts } from './verify-alerts.ts';
import { checkCheckpointChain, type CheckpointChain } from './verify-checkpoints.ts';
import { findChangedEvents, walkLegacy, walkLinks, type ChainWalk } from './verify-chain.ts';

export type { VerifyProblem } from './types.ts';

export interface VerifyResult {
  ok: boolean;
  events: number;
  chains: { chain: number; base: string; head: string; events: number }[];
  checkpoints: { count: number; latest?: string; keyId?: string };
  /** not failures, but what the operator should know (e.g. no checkpoint yet) */
  warnings: string[];
  problems: VerifyProblem[];
  /** the first problem, for a one-line answer */
  problem?: VerifyProblem;
}

export interface VerifyOptions {
  /** where the checkpoints and the key are; without it, checkpoints are not compared */
  settings?: AuditConfig;
  maxProblems?: number;
}

async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const bigMax = (a: string, b: string) => (BigInt(a) > BigInt(b) ? a : b);

export async function verifyAuditChain(q: Queryable, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const max = opts.maxProblems ?? 100;
  const trail = await trailId(q);
  const { heads, bases } = await chainMarks(q);
  const loaded: CheckpointChain = opts.settings
    ? await checkCheckpointChain(q, opts.settings, trail)
    : { checkpoints: [], count: 0, problems: [], warnings: [] };
  const problems: VerifyProblem[] = [...loaded.problems];
  const warnings: string[] = [...loaded.warnings];
  const baseOf = new Map(bases.map((b) => [b.chain, b]));

  // Where each chain starts: its genesis, or a pruning point a signed checkpoint vouches for.
  for (const h of heads) {
    const b = baseOf.get(h.chain);
    if (!b) {
      problems.push({
        chain: h.chain,
        seq: '0',
        what: 'the chain has no starting point (its base row was removed)',
      });
      continue;
    }
    if (b.seq === '0') {
      const genesis = h.chain === LEGACY_CHAIN ? LEGACY_GENESIS : genesisHash(trail, h.chain);
      if (b.hash !== genesis)
        problems.push({ chain: h.chain, seq: '0', what: "the chain's starting hash was changed" });
    } else if (
      !loaded.checkpoints.some((c) =>
        c.bases.some((x) => x.chain === b.chain && x.seq === b.seq && x.hash === b.hash),
      )
    ) {
      problems.push({
        chain: h.chain,
        seq: '1',
        what: `the chain now starts after event ${b.seq}, and no signed checkpoint records that pruning (events removed from the start)`,
      });
    }
  }

  const parallel = (q as { kind?: string }).kind === 'postgres' ? 4 : 1;
  const [walks, scan] = await Promise.all([
    pool(heads, parallel, (h): Promise<ChainWalk> => {
      const b = baseOf.get(h.chain) ?? { seq: '0', hash: '' };
      return h.chain === LEGACY_CHAIN ? walkLegacy(q, b, h.seq, max) : walkLinks(q, h.chain, b, h.seq, max);
    }),
    findChangedEvents(q, max, heads),
  ]);
  problems.push(...scan.changed);
  problems.push(...(await verifyAlerts(q, heads, bases, scan.counts, max)));

  for (const [i, h] of heads.entries()) {
    const w = walks[i]!;
    problems.push(...w.problems);
    if (BigInt(h.seq) > BigInt(w.last)) {
      const from = BigInt(w.last) + 1n;
      problems.push({
        chain: h.chain,
        seq: String(from),
        what: `events ${from}–${h.seq} are missing from the end of the chain (removed; the head says ${h.seq})`,
      });
    } else if (w.lastHash !== h.hash) {
      problems.push({
        chain: h.chain,
        seq: h.seq,
        what: 'the last event does not match the chain head (changed or replaced)',
      });
    }
    const beyond = await q.query<{ m: string | null }>(
      'SELECT max(chain_seq)::text AS m FROM audit_event WHERE chain = $1',
      [h.chain],
    );
    const now = await q.query<{ seq: string }>(
      'SELECT seq::text AS seq FROM audit_chain_head WHERE chain = $1',
      [h.chain],
    );
    const m = beyond.rows[0]?.m;
    if (m && now.rows[0] && BigInt(m) > BigInt(now.rows[0].seq))
      problems.push({
        chain: h.chain,
        seq: String(BigInt(now.rows[0].seq) + 1n),
        what: `events beyond the chain head (up to ${m}) were inserted without advancing it`,
      });
  }

  problems.push(...(await compareCheckpoints(q, loaded, heads, baseOf)));

  const none = loaded.checkpoints.length === 0 && loaded.count === 0 && loaded.problems.length === 0;
  if (opts.settings && none && scan.counts.checkpoints > 0)
    problems.push({
      what: `the trail records ${scan.counts.checkpoints} checkpoint${scan.counts.checkpoints > 1 ? 's' : ''} (audit.checkpoint events) but none is left in ${opts.settings.checkpointDir}, in the database or in a witness: they were deleted`,
    });
  else if (opts.settings && none)
    warnings.push(
      'no signed checkpoint yet: a rewritten and re-hashed end of a chain could not be detected (run `sharedcare audit checkpoint`)',
    );
  // problems outside the chains first (checkpoints in order), then by chain and place
  const order = (p: VerifyProblem) =>
    [p.chain ?? -1, p.seq ? BigInt(p.seq) : BigInt(p.checkpoint ?? -1)] as const;
  problems.sort((a, b) => {
    const [ca, sa] = order(a);
    const [cb, sb] = order(b);
    return ca - cb || (sa < sb ? -1 : sa > sb ? 1 : 0);
  });
  const latest = loaded.checkpoints.at(-1);
  return {
    ok: problems.length === 0,
    events: walks.reduce((n, w) => n + w.events, 0),
    chains: heads.map((h, i) => ({
      chain: h.chain,
      base: baseOf.get(h.chain)?.seq ?? '0',
      head: h.seq,
      events: walks[i]!.events,
    })),
    checkpoints: {
      count: loaded.count,
      ...(latest ? { latest: latest.at } : {}),
      ...(loaded.keyId ? { keyId: loaded.keyId } : {}),
    },
    warnings,
    problems: problems.slice(0, max),
    ...(problems[0] ? { problem: problems[0] } : {}),
  };
}

/**
 * Each checkpoint recorded (chain, place, hash) for every head. An event recorded there must still
 * be there with that hash; if not, the end of the chain was cut off or rewritten and re-hashed.
 * The last checkpoint that still matches says from where.
 */
async function compareCheckpoints(
  q: Queryable,
  loaded: { checkpoints: LoadedCheckpoint[] },
  heads: ChainMark[],
  baseOf: Map<number, ChainMark>,
): Promise<VerifyProblem[]> {
  const marks = new Map<string, { chain: number; seq: string; hash: string; n: number; at: string }>();
  for (const cp of loaded.checkpoints)
    for (const m of cp.heads) {
      const base = baseOf.get(m.chain)?.seq ?? '0';
      if (BigInt(m.seq) <= BigInt(base)) continue; // pruned since
      const k = `${m.chain}:${m.seq}`;
      if (!marks.has(k)) marks.set(k, { ...m, n: cp.n, at: cp.at });
    }
  if (marks.size === 0) return [];
  const list = [...marks.values()];
  const { rows } = await q.query<{ chain: number; seq: string; hash: string }>(
    `SELECT e.chain::int AS chain, e.chain_seq::text AS seq, e.hash FROM audit_event e
     JOIN unnest($1::int[], $2::bigint[]) AS m(chain, seq) ON e.chain = m.chain AND e.chain_seq = m.seq`,
    [list.map((m) => m.chain), list.map((m) => m.seq)],
  );
  const found = new Map(rows.map((r) => [`${r.chain}:${r.seq}`, r.hash]));
  const headOf = new Map(heads.map((h) => [h.chain, h.seq]));
  const problems: VerifyProblem[] = [];
  const byChain = new Map<number, typeof list>();
  for (const m of list) byChain.set(m.chain, [...(byChain.get(m.chain) ?? []), m]);
  for (const [chain, ms] of byChain) {
    ms.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
    let good = baseOf.get(chain)?.seq ?? '0';
    for (const m of ms) {
      const hash = found.get(`${chain}:${m.seq}`);
      if (hash === m.hash) {
        good = bigMax(good, m.seq);
        continue;
      }
      const from = String(BigInt(good) + 1n);
      const head = headOf.get(chain) ?? '0';
      problems.push(
        hash === undefined && BigInt(m.seq) > BigInt(head)
          ? {
              chain,
              seq: String(BigInt(head) + 1n),
              what: `checkpoint ${m.n} (${m.at}) recorded this chain up to event ${m.seq}, but it now ends at ${head}: events were removed from the end (truncated)`,
            }
          : {
              chain,
              seq: from,
              what: `${from === m.seq ? `event ${from} was` : `events ${from}–${m.seq} were`} rewritten: checkpoint ${m.n} (${m.at}) recorded a different ${hash === undefined ? 'event' : 'hash'} at ${m.seq}`,
            },
      );
      break;
    }
  }
  return problems;
}
