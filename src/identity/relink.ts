/**
 * Moving source records between persons, outside the matcher: a source's own merge (HL7 v2 A40 or
 * A34, a FHIR Patient with link type replaced-by) and its undoing, and an administrator's split of
 * a wrongly linked person. Every item moves with its source record through the caller's
 * `moveItems`, in the caller's transaction, so that the move is atomic; the caller audits the
 * returned moves (see src/admin/identity.ts and src/ingest).
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { isValidNhsNumber } from './nhs-number.ts';

/**
 * Moves a source record's clinical items (and what derives from them) from the person it was
 * linked to, to another.
 */
export type ItemMover = (
  tx: Queryable,
  sourceId: string,
  localId: string,
  fromPersonId: string,
  toPersonId: string,
) => Promise<void>;

export interface SourceRecordRef {
  sourceId: string;
  localId: string;
}

export interface RecordMove extends SourceRecordRef {
  fromPersonId: string;
  toPersonId: string;
}

interface LinkState {
  source_id: string;
  local_id: string;
  person_id: string;
  nhs_number: string | null;
  merged_from: string | null;
}

async function lockLinks(tx: Queryable, refs: SourceRecordRef[]): Promise<LinkState[]> {
  const { rows } = await tx.query<LinkState>(
    `SELECT l.source_id, l.local_id, l.person_id, l.nhs_number, l.merged_from FROM person_link l
       JOIN unnest($1::text[], $2::text[]) AS r(s, l) ON l.source_id = r.s AND l.local_id = r.l
      ORDER BY l.source_id, l.local_id FOR UPDATE OF l`,
    [refs.map((r) => r.sourceId), refs.map((r) => r.localId)],
  );
  return rows;
}

async function moveLink(
  tx: Queryable,
  link: LinkState,
  toPersonId: string,
  reason: string,
  mergedFrom: string | null,
  moveItems: ItemMover,
): Promise<RecordMove> {
  await tx.query(
    `UPDATE person_link SET person_id = $3, link_reason = $4, merged_from = $5, updated_at = now()
      WHERE source_id = $1 AND local_id = $2`,
    [link.source_id, link.local_id, toPersonId, reason, mergedFrom],
  );
  await moveItems(tx, link.source_id, link.local_id, link.person_id, toPersonId);
  return { sourceId: link.source_id, localId: link.local_id, fromPersonId: link.person_id, toPersonId };
}

/**
 * A source says its record `from` is the same patient as its record `into` (HL7 v2 A40/A34 with
 * MRG naming `from`; FHIR `from` carrying link replaced-by `into`): `from` and its items join the
 * person `into` is on. The person `from` was on is remembered, so that an unmerge restores it.
 * Returns undefined when either record is unknown or they are already together.
 */
export async function mergeSourceRecords(
  tx: Queryable,
  sourceId: string,
  fromLocalId: string,
  intoLocalId: string,
  moveItems: ItemMover,
): Promise<RecordMove | undefined> {
  const rows = await lockLinks(tx, [
    { sourceId, localId: fromLocalId },
    { sourceId, localId: intoLocalId },
  ]);
  const from = rows.find((r) => r.local_id === fromLocalId);
  const into = rows.find((r) => r.local_id === intoLocalId);
  if (!from || !into || from.person_id === into.person_id) return undefined;
  return moveLink(tx, from, into.person_id, 'source-merge', from.person_id, moveItems);
}

/** Undoes a source merge: the record goes back to the person it was on (a new one if that is gone). */
export async function unmergeSourceRecord(
  tx: Queryable,
  ref: SourceRecordRef,
  moveItems: ItemMover,
): Promise<RecordMove | undefined> {
  const [link] = await lockLinks(tx, [ref]);
  if (!link?.merged_from) return undefined;
  const exists = (await tx.query('SELECT 1 FROM person WHERE id = $1', [link.merged_from])).rows.length > 0;
  const to = exists ? link.merged_from : await newPerson(tx, null);
  return moveLink(tx, link, to, link.nhs_number ? 'nhs-number' : 'unverified', null, moveItems);
}

async function newPerson(tx: Queryable, nhs: string | null): Promise<string> {
  const id = randomUUID();
  await tx.query('INSERT INTO person (id, nhs_number, verified) VALUES ($1, $2, $3)', [
    id,
    nhs,
    nhs !== null,
  ]);
  return id;
}

/**
 * An administrator splits a wrongly linked person: these source records (and their items) leave
 * it for a new person, and each is remembered as kept apart from every record that stays, so the
 * matcher does not join them again. A record carrying the person's own NHS number cannot leave it.
 */
export async function splitPerson(
  tx: Queryable,
  personId: string,
  refs: SourceRecordRef[],
  decidedBy: string,
  moveItems: ItemMover,
  at: Date,
): Promise<{ newPersonId: string; moves: RecordMove[] }> {
  const person = (
    await tx.query<{ nhs_number: string | null }>('SELECT nhs_number FROM person WHERE id = $1 FOR UPDATE', [
      personId,
    ])
  ).rows[0];
  if (!person) throw new SharedcareError('not-found', 'no such person');
  const all = await lockLinks(
    tx,
    (
      await tx.query<{ source_id: string; local_id: string }>(
        'SELECT source_id, local_id FROM person_link WHERE person_id = $1',
        [personId],
      )
    ).rows.map((r) => ({ sourceId: r.source_id, localId: r.local_id })),
  );
  const wanted = new Set(refs.map((r) => `${r.sourceId}|${r.localId}`));
  const leaving = all.filter((l) => wanted.has(`${l.source_id}|${l.local_id}`));
  const staying = all.filter((l) => !wanted.has(`${l.source_id}|${l.local_id}`));
  if (leaving.length !== wanted.size)
    throw new SharedcareError(
      'invalid-request',
      'every source record to split off must be linked to this person',
    );
  if (staying.length === 0)
    throw new SharedcareError(
      'invalid-request',
      'a split must leave at least one source record with the person',
    );
  if (person.nhs_number && leaving.some((l) => l.nhs_number === person.nhs_number))
    throw new SharedcareError(
      'invalid-request',
      "a source record carrying the person's NHS number stays with the person; correct it at the source",
    );
  const numbers = [...new Set(leaving.map((l) => l.nhs_number).filter((n) => isValidNhsNumber(n)))];
  const newPersonId = await newPerson(tx, numbers.length === 1 ? numbers[0]! : null);
  const moves: RecordMove[] = [];
  for (const l of leaving) moves.push(await moveLink(tx, l, newPersonId, 'admin', null, moveItems));
  await rememberDecisions(
    tx,
    leaving.flatMap((a) => staying.map((b) => [toRef(a), toRef(b)] as const)),
    'apart',
    decidedBy,
    at,
  );
  return { newPersonId, moves };
}

const toRef = (l: LinkState): SourceRecordRef => ({ sourceId: l.source_id, localId: l.local_id });

/** Remembers decisions on pairs of source records, both ways round; a later decision replaces one. */
export async function rememberDecisions(
  tx: Queryable,
  pairs: (readonly [SourceRecordRef, SourceRecordRef])[],
  decision: 'link' | 'apart',
  decidedBy: string,
  at: Date,
): Promise<void> {
  if (pairs.length === 0) return;
  const both = pairs.flatMap(([a, b]) => [
    [a, b],
    [b, a],
  ]);
  await tx.query(
    `INSERT INTO identity_decision (source_id, local_id, other_source_id, other_local_id, decision, decided_by, decided_at)
     SELECT s, l, os, ol, $5, $6, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(s, l, os, ol)
     ON CONFLICT (source_id, local_id, other_source_id, other_local_id)
       DO UPDATE SET decision = EXCLUDED.decision, decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at`,
    [
      both.map(([a]) => a!.sourceId),
      both.map(([a]) => a!.localId),
      both.map(([, b]) => b!.sourceId),
      both.map(([, b]) => b!.localId),
      decision,
      decidedBy,
      at.toISOString(),
    ],
  );
}
