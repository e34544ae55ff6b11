/**
 * Stage: classify sensitivity. Before the store: each item's sensitivity labels from its codes,
 * its source's security labels, its organisation and its text (the policy's classifier). After the
 * store: what the text screen flagged goes to review, review decisions apply, and items linked to
 * withheld items are withheld too (either may have just arrived or gone).
 */
import type { Queryable } from '../../db/index.ts';
import { mapWithTurns } from '../../event-loop/index.ts';
import { propagateLinkedLabels } from '../../store/index.ts';
import type { Draft } from './store.ts';
import type { IngestDeps } from './types.ts';

/**
 * Labels each item from what the source sent (the resource before provenance is added), giving the
 * event loop turns on a large request (the text screen is most of intake's work per item).
 */
export async function classifyItems(drafts: Draft[], classify: IngestDeps['classify']): Promise<void> {
  await mapWithTurns(drafts, ({ item, sent }) => {
    item.sensitivity = classify(item.codes, item.security, item.sourceOrg, sent);
  });
}

export async function settleLabels(
  tx: Queryable,
  deps: Pick<IngestDeps, 'settleReviews'>,
  written: { id: string; personId: string; sensitivity?: string[] }[],
  persons: string[],
  /** those of `persons` known to have labelled items (the store's write told), if known */
  labelled?: string[],
): Promise<void> {
  await deps.settleReviews?.(tx, written);
  await propagateLinkedLabels(tx, persons, labelled);
}
