/**
 * The ids a source gave resources that a conditional create filed as what it had stored before
 * (conditional-create.ts). A re-export names everything afresh: its Condition "c-2" is stored as
 * the item the source first sent as "c-1", and a later request of the source may still name it
 * "Condition/c-2". Without the alias that reference named nothing, so a prescription linked to a
 * withheld diagnosis that way was shown, and a DELETE by that id deleted nothing. Each request
 * records the aliases its conditional creates made (migration 029, `sender_alias`) and looks up,
 * in one statement and only when it has any, the ids it names that neither it nor the store holds.
 */
import type { Queryable } from '../../db/index.ts';
import { isClinicalType } from '../../fhir/index.ts';
import type { Entry } from '../parse.ts';
import { itemId, type LocalRef } from '../references.ts';
import type { IntakeRun } from './types.ts';

export interface SenderAlias {
  type: string;
  senderId: string;
  /** the local id of the item (or the source record, for a Patient) it was filed as */
  localId: string;
}

/** A conditional create found what it made before: the entry is filed as that, its own id an alias. */
export function fileAs(run: IntakeRun, e: Entry, localId: string): void {
  run.index.rename(e, localId);
  e.localId = localId;
  if (e.senderId !== undefined && e.senderId !== localId)
    (run.senderAliases ??= []).push({ type: e.resource!.resourceType, senderId: e.senderId, localId });
}

/** Writes the aliases this request made (a later one wins: the source's latest word). */
export async function recordSenderAliases(tx: Queryable, run: IntakeRun): Promise<void> {
  if (!run.senderAliases?.length) return;
  // one row per key: ON CONFLICT DO UPDATE may not touch a row twice in one statement
  const last = new Map(run.senderAliases.map((a) => [`${a.type}/${a.senderId}`, a]));
  const aliases = [...last.values()];
  await tx.query(
    `INSERT INTO sender_alias (source_id, resource_type, sender_id, local_id)
     SELECT $1, t.type, t.sender, t.local FROM unnest($2::text[], $3::text[], $4::text[]) AS t(type, sender, local)
     ON CONFLICT (source_id, resource_type, sender_id) DO UPDATE SET local_id = EXCLUDED.local_id`,
    [
      run.source.id,
      aliases.map((a) => a.type),
      aliases.map((a) => a.senderId),
      aliases.map((a) => a.localId),
    ],
  );
}

/**
 * Resolves through the aliases the source's ids that this request names but does not carry: each
 * found is added to the request's index, so that a reference `Type/senderId` rewrites to the item.
 * An id that names a stored item of `persons` (those whose items name it) is that item, whatever
 * alias it once was. Returns the aliases found.
 */
export async function resolveSenderAliases(
  tx: Queryable,
  run: IntakeRun,
  named: LocalRef[],
  persons: string[] = [],
): Promise<SenderAlias[]> {
  const sought = new Map(named.map((r) => [`${r.type}/${r.localId}`, r]));
  if (sought.size === 0) return [];
  const refs = [...sought.values()];
  const { rows } = await tx.query<{ type: string; sender: string; local: string }>(
    `SELECT a.resource_type AS type, a.sender_id AS sender, a.local_id AS local
       FROM unnest($2::text[], $3::text[], $4::uuid[]) AS w(type, sender, item)
       JOIN sender_alias a ON a.source_id = $1 AND a.resource_type = w.type AND a.sender_id = w.sender
      WHERE NOT EXISTS (SELECT 1 FROM clinical_item WHERE person_id = ANY($5::uuid[]) AND id = w.item)`,
    [
      run.source.id,
      refs.map((r) => r.type),
      refs.map((r) => r.localId),
      refs.map((r) => (isClinicalType(r.type) ? itemId(run.source.id, r.type, r.localId) : null)),
      persons,
    ],
  );
  const found = rows.map((r) => ({ type: r.type, senderId: r.sender, localId: r.local }));
  for (const a of found) run.index.alias(a.type, a.senderId, a.localId);
  return found;
}
