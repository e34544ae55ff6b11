/**
 * Moving items to another person, keeping each item in one place. The key of clinical_item and
 * clinical_item_version is (person_id, id): an item's id is unique in practice (a uuid minted from
 * its source and local id), and it stays so because a move takes the item and its superseded
 * versions along, in the caller's transaction, rather than writing it again under the new person.
 * What derives from an item in other modules (relationship facts, the review queue) follows through
 * the moves returned here.
 */
import type { Queryable } from '../db/index.ts';

/** One item that left one person for another. */
export interface ItemMove {
  id: string;
  from: string;
  to: string;
}

/** Moves the items and their versions: each addressed by its old key (person, id). */
export async function moveItemRows(tx: Queryable, moves: ItemMove[]): Promise<void> {
  if (moves.length === 0) return;
  const params = [moves.map((m) => m.id), moves.map((m) => m.from), moves.map((m) => m.to)];
  for (const table of ['clinical_item', 'clinical_item_version'])
    await tx.query(
      `UPDATE ${table} t SET person_id = m.to_p
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS m(id, from_p, to_p)
        WHERE t.person_id = m.from_p AND t.id = m.id`,
      params,
    );
}

/**
 * Moves a source record's items from the person it was linked to, to another (identity relinked
 * it); returns the moves.
 */
export async function reassignItems(
  tx: Queryable,
  sourceId: string,
  sourcePatientId: string,
  fromPersonId: string,
  toPersonId: string,
): Promise<ItemMove[]> {
  if (fromPersonId === toPersonId) return [];
  const r = await tx.query<{ id: string }>(
    'SELECT id FROM clinical_item WHERE person_id = $3 AND source_id = $1 AND source_patient_id = $2 FOR UPDATE',
    [sourceId, sourcePatientId, fromPersonId],
  );
  const moves = r.rows.map((row) => ({ id: row.id, from: fromPersonId, to: toPersonId }));
  await moveItemRows(tx, moves);
  return moves;
}
