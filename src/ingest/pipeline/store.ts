/**
 * Stage: store. The request's items are written in a handful of statements (the store's
 * writeItems); a later entry for the same item supersedes an earlier one in the same request;
 * DELETE entries take items out of the view. Each entry's result says what happened to it.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { isClinicalType } from '../../fhir/index.ts';
import {
  deleteItems,
  writeItems,
  type ItemMove,
  type ItemWrite,
  type WriteResult,
} from '../../store/index.ts';
import { itemId } from '../references.ts';
import { describeWrite } from './results.ts';
import { findStoredNames, localIdsByName } from './stored-names.ts';
import type { IntakeRun } from './types.ts';

/** An item ready to store, with the entry it came from and the resource as the source sent it. */
export interface Draft {
  i: number;
  item: ItemWrite;
  sent: Resource;
}

export interface Stored {
  /** the items written, with what the store did with each */
  written: { item: ItemWrite; action: WriteResult['action'] }[];
  /** results of the DELETE entries */
  deleted: WriteResult[];
  /** items the source refiled under another patient: they moved, with their history */
  moves: ItemMove[];
  /**
   * The touched persons that have an item with a sensitivity label now, when the write could tell
   * (nothing moved or deleted): those it found labelled just before it, and those of the items it
   * wrote with labels. Absent: the labelled-label walk looks for itself.
   */
  labelled?: string[];
}

/** One draft per item id: the last entry wins, earlier ones are marked superseded. */
export function lastPerItem(run: IntakeRun, drafts: Draft[]): Draft[] {
  const byId = new Map<string, Draft>();
  for (const d of drafts) {
    const earlier = byId.get(d.item.id);
    if (earlier)
      run.results[earlier.i] = {
        at: run.entries[earlier.i]!.at,
        action: 'ignored',
        resourceType: d.item.resourceType,
        id: d.item.id,
        note: 'superseded by a later entry in this request',
      };
    byId.set(d.item.id, d);
  }
  return [...byId.values()];
}

export async function storeItems(tx: Queryable, run: IntakeRun, drafts: Draft[]): Promise<Stored> {
  const {
    results: written,
    moves,
    labelledBefore,
  } = await writeItems(
    tx,
    drafts.map((d) => d.item),
  );
  drafts.forEach(
    (d, k) => (run.results[d.i] = describeWrite(run.entries[d.i]!, d.item.resourceType, written[k]!)),
  );
  const deletes = run.entries
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => e.method === 'DELETE' && e.target && isClinicalType(e.target.type));
  const targets = await deleteTargets(
    tx,
    run,
    deletes.map(({ e }) => e.target!),
  );
  const deleted = await deleteItems(
    tx,
    targets.map((t) => ({ id: itemId(run.source.id, t.type, t.id) })),
  );
  deletes.forEach(({ e, i }, k) => (run.results[i] = describeWrite(e, e.target!.type, deleted[k]!)));
  const stored = {
    written: drafts.map((d, k) => ({ item: d.item, action: written[k]!.action })),
    deleted,
    moves,
  };
  return { ...stored, labelled: labelledNow(stored, labelledBefore) };
}

/**
 * What each DELETE names: another name of a stored item where its id is one (stored-names.ts: the
 * id a re-export gave what a conditional create filed as an earlier item, or Sharedcare's own id of
 * the source's item), else the source's own id.
 */
async function deleteTargets(
  tx: Queryable,
  run: IntakeRun,
  targets: { type: string; id: string }[],
): Promise<{ type: string; id: string }[]> {
  // (an HL7 v2 source's DELETEs name its own ids: findStoredNames)
  if (targets.length === 0 || run.source.kind === 'hl7v2') return targets;
  const names = await findStoredNames(
    tx,
    run.source,
    targets.map((t) => ({ type: t.type, localId: t.id })),
  );
  const to = localIdsByName(names);
  return targets.map((t) => ({ type: t.type, id: to.get(`${t.type}/${t.id}`) ?? t.id }));
}

function labelledNow(stored: Omit<Stored, 'labelled'>, before: string[] | undefined): string[] | undefined {
  if (!before || stored.moves.length > 0 || stored.deleted.some((d) => d.action !== 'not-found'))
    return undefined;
  const persons = new Set(before);
  for (const w of stored.written)
    if (
      (w.action === 'created' || w.action === 'updated' || w.action === 'deleted') &&
      w.item.sensitivity.length > 0
    )
      persons.add(w.item.personId);
  return [...persons];
}

/** The persons whose items this request touched (written, deleted or moved away), for relabelling. */
export function touchedPersons(stored: Stored): string[] {
  const persons = new Set(stored.written.map((w) => w.item.personId));
  for (const d of stored.deleted) if (d.action === 'deleted' && d.personId) persons.add(d.personId);
  for (const m of stored.moves) persons.add(m.from);
  return [...persons];
}
