/**
 * The information-governance team's review queue. The free-text screen withholds an item that no
 * code withholds ("review:<category>" labels) and queues it with the words that flagged it. A
 * decision is remembered against the item and the digest of those words: "confirmed" keeps it
 * withheld as sensitive, "released" shows it. It survives relabelling (settleReviews runs after every
 * relabel and intake); if the item's flagged words change, it is queued again.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { itemsLabelled, propagateLinkedLabels, setItemLabels, type ItemKey } from '../store/index.ts';
import { REVIEW_PREFIX } from './classify.ts';
import type { TextMatch } from './text-screen.ts';

export type ReviewStatus = 'pending' | 'confirmed' | 'released';
export type ReviewDecision = 'confirm' | 'release';

export interface ReviewEntry {
  itemId: string;
  personId: string;
  resourceType: string;
  sourceId: string;
  status: ReviewStatus;
  /** why it was flagged: the matched words and the rule (and the category, for the IG team only) */
  matches: TextMatch[];
  flaggedAt: string;
  decidedBy: string | null;
  decidedOrg: string | null;
  decidedAt: string | null;
}

const digestOf = (matches: TextMatch[]) =>
  createHash('sha256')
    .update(
      [...new Set(matches.map((m) => `${m.category}|${m.rule}|${m.phrase.toLowerCase()}`))].sort().join('\n'),
    )
    .digest('hex')
    .slice(0, 16);

/** The labels an item has once a decision is applied to its review labels. */
function decided(labels: string[], status: ReviewStatus): string[] {
  if (status === 'pending') return labels;
  return labels.flatMap((l) =>
    l.startsWith(REVIEW_PREFIX) ? (status === 'confirmed' ? [l.slice(REVIEW_PREFIX.length)] : []) : [l],
  );
}

/**
 * Queues newly flagged items and applies remembered decisions to items flagged again (after an
 * intake of these items, or after a relabel of all). Does not walk links: the caller does.
 */
export async function settleReviews(
  tx: Queryable,
  explain: (resource: unknown) => TextMatch[],
  items: (ItemKey & { sensitivity?: string[] })[] | 'all',
  now: Date = new Date(),
): Promise<number> {
  // an item just stored with labels that the text screen did not flag has nothing to settle: no
  // statement to look for it (the common case of intake)
  const candidates =
    items === 'all'
      ? items
      : items.filter((i) => !i.sensitivity || i.sensitivity.some((l) => l.startsWith(REVIEW_PREFIX)));
  const flagged = await itemsLabelled(tx, REVIEW_PREFIX, candidates);
  if (flagged.length === 0) return 0;
  const { rows: known } = await tx.query<{ id: string; status: ReviewStatus; digest: string }>(
    `SELECT item_id AS id, status, digest FROM sensitivity_review
      WHERE person_id = ANY($2::uuid[]) AND item_id = ANY($1::uuid[])`,
    [flagged.map((f) => f.id), [...new Set(flagged.map((f) => f.personId))]],
  );
  const byId = new Map(known.map((k) => [k.id, k]));
  const relabel: (ItemKey & { labels: string[] })[] = [];
  const queue: { id: string; personId: string; matches: TextMatch[]; digest: string }[] = [];
  for (const item of flagged) {
    const matches = explain(JSON.parse(item.body));
    const digest = digestOf(matches);
    const prior = byId.get(item.id);
    if (prior && prior.digest === digest) {
      if (prior.status !== 'pending')
        relabel.push({
          id: item.id,
          personId: item.personId,
          labels: decided(item.sensitivity, prior.status),
        });
    } else queue.push({ id: item.id, personId: item.personId, matches, digest });
  }
  await setItemLabels(tx, relabel);
  if (queue.length > 0)
    await tx.query(
      `INSERT INTO sensitivity_review (item_id, person_id, status, matches, digest, flagged_at)
       SELECT u.id, u.p, 'pending', u.m::jsonb, u.d, $5 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS u(id, p, m, d)
       ON CONFLICT (person_id, item_id) DO UPDATE SET status = 'pending', matches = EXCLUDED.matches,
         digest = EXCLUDED.digest, flagged_at = EXCLUDED.flagged_at, decided_by = NULL, decided_org = NULL, decided_at = NULL`,
      [
        queue.map((q) => q.id),
        queue.map((q) => q.personId),
        queue.map((q) => JSON.stringify(q.matches)),
        queue.map((q) => q.digest),
        now,
      ],
    );
  return relabel.length + queue.length;
}

export async function listReviews(
  q: Queryable,
  status: ReviewStatus | 'all' = 'pending',
): Promise<ReviewEntry[]> {
  const { rows } = await q.query<ReviewEntry>(
    `SELECT r.item_id AS "itemId", r.person_id AS "personId", c.resource_type AS "resourceType",
       c.source_id AS "sourceId", r.status, r.matches, r.flagged_at::text AS "flaggedAt",
       r.decided_by AS "decidedBy", r.decided_org AS "decidedOrg", r.decided_at::text AS "decidedAt"
     FROM sensitivity_review r JOIN clinical_item c ON c.person_id = r.person_id AND c.id = r.item_id
     WHERE ($1 = 'all' OR r.status = $1) AND NOT c.deleted ORDER BY r.flagged_at, r.item_id`,
    [status],
  );
  return rows;
}

/**
 * Records the team's decision on one queued item and applies it to the item's labels (and the
 * items linked to it) at once. Returns the person whose record changed, or undefined for an item
 * not in the queue.
 */
export async function decideReview(
  tx: Queryable,
  itemId: string,
  decision: ReviewDecision,
  by: { user: string; org: string },
  now: Date = new Date(),
): Promise<{ personId: string; status: ReviewStatus } | undefined> {
  const status: ReviewStatus = decision === 'confirm' ? 'confirmed' : 'released';
  const r = await tx.query<{ personId: string }>(
    `UPDATE sensitivity_review SET status = $2, decided_by = $3, decided_org = $4, decided_at = $5
     WHERE item_id = $1 RETURNING person_id AS "personId"`,
    [itemId, status, by.user, by.org, now],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  // the queue's entry is by item: the admin names the item, the entry says whose it is
  const items = await itemsLabelled(tx, REVIEW_PREFIX, [{ id: itemId, personId: row.personId }]);
  await setItemLabels(
    tx,
    items.map((i) => ({ id: i.id, personId: i.personId, labels: decided(i.sensitivity, status) })),
  );
  await propagateLinkedLabels(tx, [row.personId]);
  return { personId: row.personId, status };
}

/** The queue's entries follow items that moved to another person (identity relinked them). */
export async function moveReviews(
  tx: Queryable,
  moves: { id: string; from: string; to: string }[],
): Promise<void> {
  if (moves.length === 0) return;
  await tx.query(
    `UPDATE sensitivity_review r SET person_id = m.to_p
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS m(id, from_p, to_p)
      WHERE r.person_id = m.from_p AND r.item_id = m.id`,
    [moves.map((m) => m.id), moves.map((m) => m.from), moves.map((m) => m.to)],
  );
}
