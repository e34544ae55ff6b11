/**
 * Moving a source record's items when identity moves the record to another person (a review
 * decision, a split, a source's merge through HL7 v2, a relink at intake): the clinical items with
 * their history, the Patient's own relationship facts, the items' facts and their entries in the
 * review queue follow it, in the caller's transaction.
 */
import type { ItemMover } from '../identity/index.ts';
import { reassignItems, type ItemMove } from '../store/index.ts';
import type { IngestDeps, RelationshipRecorder } from './pipeline/index.ts';
import { itemId } from './references.ts';

/** Who keeps what derives from items (the access module's facts, the policy's review queue). */
export interface MoveFollowers {
  relationships?: Pick<RelationshipRecorder, 'reassign'>;
  moveReviews?: IngestDeps['moveReviews'];
}

/** What derives from moved items follows them. */
export async function followMoves(tx: Parameters<ItemMover>[0], deps: MoveFollowers, moves: ItemMove[]) {
  if (moves.length === 0) return;
  await deps.relationships?.reassign(tx, moves);
  await deps.moveReviews?.(tx, moves);
}

export function itemMover(deps: MoveFollowers): ItemMover {
  return async (tx, sourceId, localId, fromPersonId, toPersonId) => {
    const moved = await reassignItems(tx, sourceId, localId, fromPersonId, toPersonId);
    const patient = { id: itemId(sourceId, 'Patient', localId), from: fromPersonId, to: toPersonId };
    await followMoves(tx, deps, [...moved, patient]);
  };
}
