/**
 * The checks behind `audit verify`, done where the data is:
 *
 * - links, per chain: each event's place follows the one before it (no gap: nothing deleted) and
 *   its previous-hash is that event's hash (nothing inserted or reordered). A window over the
 *   (chain, chain_seq) index, which carries both hashes, so it reads the index alone.
 * - content, all chains in one sequential scan (parallel on PostgreSQL): each event's hash is
 *   recomputed from its previous-hash, place, time, indexed columns and text (nothing changed).
 * - the legacy chain 0 (events from before migration 006) is walked here in TypeScript, with the
 *   old hash and a check of the indexed columns against the hashed text.
 */
import type { Queryable } from '../db/index.ts';
import { eventHashSql, legacyHash, LEGACY_CHAIN } from './canonical.ts';
import type { AuditEvent, VerifyProblem } from './types.ts';

export type { VerifyProblem } from './types.ts';

export interface ChainWalk {
  chain: number;
  events: number;
  /** the last place walked (the base when the chain is empty) */
  last: string;
  lastHash: string;
  problems: VerifyProblem[];
}

/** Links of one chain from its base up to `upTo` (the head read before the walk). */
export async function walkLinks(
  q: Queryable,
  chain: number,
  base: { seq: string; hash: string },
  upTo: string,
  max: number,
): Promise<ChainWalk> {
  const { rows } = await q.query<{ n: string; last: string | null; bad: string[] | null }>(
    `SELECT count(*)::text AS n, max(chain_seq)::text AS last,
       (array_agg(chain_seq::text || ':' || coalesce(prev_seq::text, $2::text) || ':' || seq_ok::text
          ORDER BY chain_seq) FILTER (WHERE NOT (seq_ok AND link_ok)))[1:$5] AS bad
     FROM (
       SELECT chain_seq, lag(chain_seq) OVER w AS prev_seq,
         chain_seq = coalesce(lag(chain_seq) OVER w, $2::bigint) + 1 AS seq_ok,
         prev_hash = coalesce(lag(hash) OVER w, $3) AS link_ok
       FROM audit_event WHERE chain = $1 AND chain_seq > $2::bigint AND chain_seq <= $4::bigint
       WINDOW w AS (ORDER BY chain_seq)) s`,
    [chain, base.seq, base.hash, upTo, max],
  );
  const r = rows[0]!;
  const problems: VerifyProblem[] = (r.bad ?? []).map((b) => {
    const [seq, prev, seqOk] = b.split(':') as [string, string, string];
    if (seqOk === 'false') {
      const from = BigInt(prev) + 1n;
      const to = BigInt(seq) - 1n;
      const which = from === to ? `event ${from} is` : `events ${from}–${to} are`;
      return { chain, seq: String(from), what: `${which} missing (deleted); the next present is ${seq}` };
    }
    return { chain, seq, what: 'does not follow the event before it (inserted, deleted or reordered)' };
  });
  const last = r.last ?? base.seq;
  const lastHash =
    r.last === null
      ? base.hash
      : ((
          await q.query<{ hash: string }>(
            'SELECT hash FROM audit_event WHERE chain = $1 AND chain_seq = $2',
            [chain, r.last],
          )
        ).rows[0]?.hash ?? '');
  return { chain, events: Number(r.n), last, lastHash, problems };
}

/** Events of the kinds that vouch for rows outside the trail, up to the heads read first. */
export interface RecordCounts {
  checkpoints: number;
  alerts: number;
  reviews: number;
}

/** The heads (or bases) as an array indexed by chain + 1, for `($n::bigint[])[e.chain + 1]`. */
export const byChain = (marks: { chain: number; seq: string }[]): string[] => {
  const out = Array.from({ length: Math.max(0, ...marks.map((m) => m.chain)) + 1 }, () => '0');
  for (const m of marks) out[m.chain] = m.seq;
  return out;
};

/**
 * Events (outside the legacy chain) whose hash does not match their content. A count over the
 * whole table first, which PostgreSQL runs as a parallel scan (a query with LIMIT would run on one
 * process, expecting to stop early); only when something is wrong, a second pass lists where.
 * The same scan counts the events that record checkpoints, alerts and reviews (verify-alerts.ts).
 */
export async function findChangedEvents(
  q: Queryable,
  max: number,
  heads: { chain: number; seq: string }[],
): Promise<{ changed: VerifyProblem[]; counts: RecordCounts }> {
  const calc = eventHashSql({
    prev: 'e.prev_hash',
    seq: 'e.chain_seq',
    at: 'e.at',
    action: 'e.action',
    outcome: 'e.outcome',
    user: 'e.user_id',
    person: 'e.person_id',
    event: 'e.event',
  });
  const bad = `e.chain <> ${LEGACY_CHAIN} AND e.hash IS DISTINCT FROM ${calc}`;
  const kind = (action: string) =>
    `count(*) FILTER (WHERE action = '${action}' AND chain_seq <= ($1::bigint[])[chain + 1])::int`;
  const { rows: counted } = await q.query<{ n: string } & RecordCounts>(
    `SELECT count(*) FILTER (WHERE changed)::text AS n, ${kind('audit.checkpoint')} AS checkpoints,
       ${kind('audit.alert')} AS alerts, ${kind('audit.alert-review')} AS reviews
     FROM (SELECT ${bad} AS changed, e.action, e.chain, e.chain_seq FROM audit_event e) s`,
    [byChain(heads)],
  );
  const { n, ...counts } = counted[0] ?? { n: '0', checkpoints: 0, alerts: 0, reviews: 0 };
  if (n === '0') return { changed: [], counts };
  const { rows } = await q.query<{ chain: number; seq: string }>(
    `SELECT chain::int AS chain, chain_seq::text AS seq FROM audit_event e WHERE ${bad} LIMIT $1`,
    [max],
  );
  return {
    changed: rows.map((r) => ({
      chain: r.chain,
      seq: r.seq,
      what: 'its content (text, time or indexed columns) does not match its hash (changed)',
    })),
    counts,
  };
}

interface LegacyRow {
  seq: string;
  at: string | Date;
  action: string;
  outcome: string;
  user_id: string | null;
  person_id: string | null;
  event: string;
  prev_hash: string;
  hash: string;
}

/** The legacy chain, the old way: hash of (previous hash | seq | text), columns against the text. */
export async function walkLegacy(
  q: Queryable,
  base: { seq: string; hash: string },
  upTo: string,
  max: number,
  batch = 10_000,
): Promise<ChainWalk> {
  const walk: ChainWalk = {
    chain: LEGACY_CHAIN,
    events: 0,
    last: base.seq,
    lastHash: base.hash,
    problems: [],
  };
  let expected = BigInt(base.seq) + 1n;
  let prevHash = base.hash;
  let after = base.seq;
  for (;;) {
    const { rows } = await q.query<LegacyRow>(
      `SELECT chain_seq::text AS seq, at, action, outcome, user_id, person_id::text AS person_id, event, prev_hash, hash
       FROM audit_event WHERE chain = ${LEGACY_CHAIN} AND chain_seq > $1::bigint AND chain_seq <= $2::bigint
       ORDER BY chain_seq LIMIT $3`,
      [after, upTo, batch],
    );
    for (const r of rows) {
      const fail = (seq: string, what: string) =>
        walk.problems.length < max && walk.problems.push({ chain: 0, seq, what });
      if (BigInt(r.seq) !== expected)
        fail(String(expected), `event ${expected} is missing (deleted); the next present is ${r.seq}`);
      else if (r.prev_hash !== prevHash)
        fail(r.seq, 'does not follow the event before it (inserted, deleted or reordered)');
      if (legacyHash(r.prev_hash, r.seq, r.event) !== r.hash)
        fail(r.seq, 'its content does not match its hash (changed)');
      else {
        const e = JSON.parse(r.event) as AuditEvent;
        const columns =
          e.action === r.action &&
          e.outcome === r.outcome &&
          (e.user?.id ?? null) === r.user_id &&
          (e.personId ?? null) === r.person_id &&
          new Date(r.at).getTime() === new Date(e.at).getTime();
        if (!columns) fail(r.seq, 'its indexed columns differ from the hashed event (changed)');
      }
      prevHash = r.hash;
      expected = BigInt(r.seq) + 1n;
      walk.events++;
      walk.last = r.seq;
      walk.lastHash = r.hash;
    }
    if (rows.length < batch) break;
    after = rows.at(-1)!.seq;
  }
  return walk;
}
