/**
 * The names a source may use, besides its own ids, for what it stored.
 *
 * - **An alias.** A conditional create (conditional-create.ts) that finds what the source stored
 *   before files the entry as that: a re-export's Condition "c-2" is stored as the item first sent
 *   as "c-1". The id it came with is kept (migration 029, `sender_alias`; ids of the source's, no
 *   patient data), so that a later `Condition/c-2` still names the item.
 * - **Sharedcare's id**, the one intake answered with (`response.location`). A FHIR client that
 *   POSTs without ids names what it made by those from then on, as FHIR's RESTful semantics allow.
 *   Only the source's own items (and, for a Patient, the person its one record is linked to).
 *
 * The source's latest word wins. An exporter that numbers each export afresh may call the HIV
 * diagnosis "Condition/2" today and the asthma "Condition/2" yesterday: an alias, being newer than
 * the id an item was first stored under, is taken before it; a conditional create that stores or
 * finds an item under its own id makes that id plain again (the alias is dropped). A name the
 * request itself carries is that entry.
 *
 * Without this such a name meant nothing or the wrong thing: a prescription given for a withheld
 * diagnosis named that way was shown, a PUT stored a second item beside the first (a correction
 * left the wrong value in view), a DELETE deleted nothing or the wrong item, and an item was filed
 * under the patient the id named last time. One statement looks the names up, in the requests that
 * name something they do not carry or send entries under ids of their own.
 */
import { lockKeysForTransaction, type Queryable } from '../../db/index.ts';
import type { SourceSystem } from '../../region/index.ts';
import { isUuid } from '../../fhir/index.ts';
import type { Entry } from '../parse.ts';
import { entryLocalId, itemId, type LocalRef } from '../references.ts';
import type { IntakeRun } from './types.ts';

/** A name to look up; `aliasOnly`: not as Sharedcare's id (a POST's own id: the sender's). */
export interface StoredNameSought extends LocalRef {
  aliasOnly?: boolean;
}

/** What a name stands for: the local id the source stored it under. */
export interface StoredName {
  type: string;
  name: string;
  localId: string;
}

/** The entry is what the source stored under `localId`. */
export function fileAs(run: IntakeRun, e: Entry, localId: string): void {
  run.index.rename(e, localId);
  e.localId = localId;
}

/** What each name found stands for, by `Type/name`. */
export function localIdsByName(found: StoredName[]): Map<string, string> {
  return new Map(found.map((n) => [`${n.type}/${n.name}`, n.localId]));
}

/** The slot an id the source renumbered away from names from then on (recordSenderAliases). */
const RENAMED = 'urn:sharedcare:renamed:';

/** The name of a new conditional create whose own id holds something else (fileConditionals). */
export function newConditionalName(e: Entry, scope = ''): string {
  return `urn:sharedcare:new:${scope}${e.conditional!.system}|${e.conditional!.value}`;
}

/** Which of these local ids the source's stored items of `type`s hold (fileConditionals `held`). */
export async function heldItems(tx: Queryable, run: IntakeRun, entries: Entry[]): Promise<Set<string>> {
  const ids = new Map(
    entries.map((e) => [itemId(run.source.id, e.resource!.resourceType, entryLocalId(e)!), entryLocalId(e)!]),
  );
  if (ids.size === 0) return new Set();
  const { rows } = await tx.query<{ id: string }>(`SELECT id FROM clinical_item WHERE id = ANY($1::uuid[])`, [
    [...ids.keys()],
  ]);
  return new Set(rows.map((r) => ids.get(r.id)!));
}

/**
 * Files the request's conditional creates (of one kind: items, or Patients). One that found what
 * the source stored before (`found`: its local id) is filed as that: the identifier says which it
 * is, whatever id it is sent under. Two finding the same: the first.
 *
 * A new one (found nothing) is stored under its own id, unless that id already holds something
 * else, in the store (`held`) or in this request: an exporter numbering each export afresh gives
 * yesterday's id of the HIV diagnosis to today's new asthma. Then it gets a name of its own
 * (`newName`), its id an alias of that, so that neither replaces the other.
 *
 * An entry sent without a condition, under an id a found one was filed into though the source now
 * calls that one otherwise, is the new holder of the id: filed into the id's renamed slot.
 */
export async function fileConditionals(
  run: IntakeRun,
  conditionals: Entry[],
  found: (e: Entry) => string | undefined,
  held: (localIds: string[]) => Promise<Set<string>>,
  newName: (e: Entry) => string,
): Promise<void> {
  const key = (e: Entry, localId = entryLocalId(e)) => `${e.resource!.resourceType}/${localId}`;
  const taken = new Set<string>();
  const renamedInto = new Set<string>();
  const fresh: Entry[] = [];
  for (const e of conditionals) {
    const localId = found(e);
    if (localId === undefined || taken.has(key(e, localId))) {
      fresh.push(e);
      continue;
    }
    taken.add(key(e, localId));
    if (localId !== e.senderId) renamedInto.add(key(e, localId));
    if (localId !== e.localId) fileAs(run, e, localId);
  }
  const stored = fresh.length > 0 ? await held(fresh.map((e) => entryLocalId(e)!)) : new Set<string>();
  for (const e of fresh) if (taken.has(key(e)) || stored.has(entryLocalId(e)!)) fileAs(run, e, newName(e));
  const kinds = new Set(conditionals.map((e) => e.resource!.resourceType));
  for (const e of run.entries)
    if (e.resource && !e.conditional && kinds.has(e.resource.resourceType) && renamedInto.has(key(e)))
      fileAs(run, e, `${RENAMED}${entryLocalId(e)}`);
}

/** A FHIR id (only such an id can be named by a later `Type/id`; another is not kept). */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Keeps what this request's conditional creates said of their ids: an id filed as another item is
 * its alias; an id stored or found as itself is plain again (an entry's word on its own id: plain
 * first). An id a found item was stored under that the source now calls otherwise names that item
 * no more: it is an alias of its renamed slot, where a later PUT, DELETE or reference by it goes.
 */
export async function recordSenderAliases(tx: Queryable, run: IntakeRun): Promise<void> {
  const said = new Map<string, { type: string; name: string; localId: string | null }>();
  const stated = new Map<string, { type: string; name: string; localId: string | null }>();
  for (const e of run.entries) {
    if (!e.conditional || e.senderId === undefined) continue;
    const type = e.resource!.resourceType;
    const localId = e.localId ?? e.senderId;
    if (localId !== e.senderId && FHIR_ID.test(localId))
      said.set(`${type}/${localId}`, { type, name: localId, localId: `${RENAMED}${localId}` });
    if (!FHIR_ID.test(e.senderId)) continue;
    const k = `${type}/${e.senderId}`;
    if (stated.get(k)?.localId === null) continue;
    stated.set(k, { type, name: e.senderId, localId: localId === e.senderId ? null : localId });
  }
  for (const [k, v] of stated) said.set(k, v);
  if (said.size === 0) return;
  // two requests saying what the same ids mean wait for each other rather than deadlock on the rows
  await lockKeysForTransaction(
    tx,
    29,
    [...said.keys()].map((k) => `${run.source.id}|${k}`),
  );
  const all = [...said.values()];
  const [set, plain] = [all.filter((a) => a.localId !== null), all.filter((a) => a.localId === null)];
  await tx.query(
    `WITH plain AS (
       DELETE FROM sender_alias a USING unnest($5::text[], $6::text[]) AS p(type, name)
        WHERE a.source_id = $1 AND a.resource_type = p.type AND a.sender_id = p.name)
     INSERT INTO sender_alias (source_id, resource_type, sender_id, local_id)
     SELECT $1, t.type, t.name, t.local FROM unnest($2::text[], $3::text[], $4::text[]) AS t(type, name, local)
     ON CONFLICT (source_id, resource_type, sender_id) DO UPDATE SET local_id = EXCLUDED.local_id, created_at = now()`,
    [
      run.source.id,
      set.map((a) => a.type),
      set.map((a) => a.name),
      set.map((a) => a.localId),
      plain.map((a) => a.type),
      plain.map((a) => a.name),
    ],
  );
}

/**
 * Whether a name may be Sharedcare's id of what a source stored: an item's id is a version-5
 * layout UUID (deterministicUuid), a person's any UUID. A sender's own UUIDs are mostly version 4
 * (Synthea's, most systems'), so most requests probe nothing for them.
 */
function mayBeOurs(r: StoredNameSought): boolean {
  if (r.aliasOnly) return false;
  if (!isUuid(r.localId)) return false;
  return r.type === 'Patient' || (r.localId[14] === '5' && '89abAB'.includes(r.localId[19]!));
}

/**
 * What the names stand for: an alias, else Sharedcare's id of an item from this source (any of
 * its persons'), else, for a Patient, the person its one record of this source is linked to. Names that are none of these are not returned. One statement; the probes by
 * Sharedcare's ids are in it only where a name may be one.
 */
export async function findStoredNames(
  tx: Queryable,
  source: SourceSystem,
  named: StoredNameSought[],
): Promise<StoredName[]> {
  // An HL7 v2 source's ids are made from its messages' fields (hl7v2/common.ts fhirId) and mean
  // just that: it sends no conditional creates and is never answered with Sharedcare's ids.
  if (source.kind === 'hl7v2') return [];
  const sourceId = source.id;
  const byKey = new Map<string, StoredNameSought>();
  for (const r of named) {
    const key = `${r.type}/${r.localId}`;
    // sought both ways (a POST's id that a reference names too): as the reference
    if (!byKey.has(key) || !r.aliasOnly) byKey.set(key, r);
  }
  const sought = [...byKey.values()];
  if (sought.length === 0) return [];
  const ours = sought.filter(mayBeOurs);
  const items = ours.filter((r) => r.type !== 'Patient');
  const people = ours.filter((r) => r.type === 'Patient').map((r) => r.localId);
  const params: unknown[] = [sourceId, sought.map((r) => r.type), sought.map((r) => r.localId)];
  const branches = [
    `SELECT 0 AS rank, resource_type AS type, sender_id AS name, local_id AS local FROM sender_alias
      WHERE source_id = $1 AND (resource_type, sender_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
  ];
  if (items.length > 0) {
    params.push(
      items.map((r) => r.type),
      items.map((r) => r.localId),
      items.map((r) => itemId(sourceId, r.type, r.localId)),
    );
    // by the item's id alone: a PUT that moves an item to another patient names it by that id too;
    // not where the name is the source's own id of an item (its latest word: it stored one so)
    branches.push(`SELECT 1, w.type, w.name, c.source_local_id
        FROM unnest($4::text[], $5::text[], $6::uuid[]) AS w(type, name, own)
        JOIN clinical_item c ON c.id = w.name::uuid AND c.source_id = $1 AND c.resource_type = w.type
       WHERE NOT EXISTS (SELECT 1 FROM clinical_item o WHERE o.id = w.own)`);
  }
  if (people.length > 0) {
    params.push(people);
    branches.push(`SELECT 1, 'Patient', w.name, min(l.local_id) FROM unnest($${params.length}::text[]) AS w(name)
        JOIN person_link l ON l.source_id = $1 AND l.person_id = w.name::uuid
      GROUP BY w.name HAVING count(*) = 1`);
  }
  const { rows } = await tx.query<{ type: string; name: string; local: string }>(
    `SELECT type, name, local FROM (${branches.join(' UNION ALL ')}) found ORDER BY rank`,
    params,
  );
  const found = new Map<string, StoredName>();
  for (const r of rows) {
    const key = `${r.type}/${r.name}`;
    if (!found.has(key)) found.set(key, { type: r.type, name: r.name, localId: r.local });
  }
  return [...found.values()];
}

/**
 * Resolves the names this request's items use (findStoredNames) into the request's index, so that
 * a reference `Type/name` rewrites to what it names. Returns what was found.
 */
export async function resolveStoredNames(
  tx: Queryable,
  run: IntakeRun,
  named: StoredNameSought[],
): Promise<StoredName[]> {
  const found = await findStoredNames(tx, run.source, named);
  for (const n of found) run.index.alias(n.type, n.name, n.localId);
  return found;
}
