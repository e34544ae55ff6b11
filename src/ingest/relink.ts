/**
 * Moving a source record's items when identity moves the record to another person (a review
 * decision, a split, a source's merge through HL7 v2): the clinical items, the Patient's own
 * relationship facts and the items' facts follow it, in the caller's transaction.
 */
import type { ItemMover } from '../identity/index.ts';
import { reassignItems } from '../store/index.ts';
import type { RelationshipRecorder } from './pipeline/index.ts';
import { itemId } from './references.ts';

export function itemMover(relationships?: Pick<RelationshipRecorder, 'reassign'>): ItemMover {
  return async (tx, sourceId, localId, toPersonId) => {
    const moved = await reassignItems(tx, sourceId, localId, toPersonId);
    await relationships?.reassign(tx, [...moved, itemId(sourceId, 'Patient', localId)], toPersonId);
  };
}
