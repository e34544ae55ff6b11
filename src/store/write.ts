/**
 * Writing the clinical repository: insert new items, replace changed ones (the old version goes to
 * clinical_item_version), ignore identical re-sends and older versions, mark deletions.
 * Whole batches go in a handful of statements (unnest arrays) so that bulk loads stay fast.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { mapWithTurns } from '../event-loop/index.ts';
import { moveItemRows, type ItemMove } from './move.ts';
import { stringifyKeepingDecimals } from '../fhir/index.ts';

export interface ItemWrite {
  id: string;
  personId: string;
  resourceType: string;
  section: string;
  sourceId: string;
  sourceOrg: string;
  sourceLocalId: string;
  sourcePatientId: string;
  sourceVersion: string | undefined;
  sourceLastUpdated: string | undefined;
  contentHash: string;
  status: string | undefined;
  codes: string[];
  security: string[];
  sensitivity: string[];
  effective: string | undefined;
  receivedAt: string;
  /** clinical items this one depends on / contains (see src/fhir/links.ts) */
  dependsOn: string[];
  contains: string[];
  /** every stored item it refers to */
  refs: string[];
  /** true for entered-in-error: kept in history, gone from the view */
  deleted: boolean;
  /** the resource as it will be served; meta.versionId is set here */
  resource: Resource;
}

export interface ItemDelete {
  id: string;
}

/** What happened to one item; `personId` is whose it is (a deletion names only the item). */
export type WriteResult =
  | { id: string; action: 'created' | 'updated' | 'deleted'; version: number; personId?: string }
  | { id: string; action: 'unchanged' | 'stale'; version: number; personId?: string }
  | { id: string; action: 'not-found' };

/** The results, and the items that moved to another person on the way (their facts follow). */
export interface Written {
  results: WriteResult[];
  moves: ItemMove[];
  /**
   * Of the persons of these items, those that had an item with a sensitivity label just before the
   * rows were written (read by the write itself); absent when nothing was written.
   */
  labelledBefore?: string[];
}

interface Existing {
  id: string;
  person_id: string;
  version: number;
  content_hash: string;
  source_last_updated: string | null;
  deleted: boolean;
}

const COLUMN_TYPES = `id uuid, person_id uuid, resource_type text, section text, source_id text, source_org text,
  source_local_id text, source_patient_id text, source_version text, source_last_updated timestamptz, version int,
  content_hash text, status text, codes text[], security text[], sensitivity text[], effective timestamptz,
  received_at timestamptz, deleted boolean, depends_on uuid[], contains uuid[], refs uuid[], body text`;
const COLUMNS = COLUMN_TYPES.split(',')
  .map((c) => c.trim().split(' ')[0])
  .join(', ');

const EXISTING = `SELECT id, person_id, version, content_hash, source_last_updated::text AS source_last_updated, deleted
  FROM clinical_item`;

/**
 * The stored state of these items. Each is looked for at its person first (the chunk's people, by
 * key); one not there is looked for by id, in case its source refiled it under another patient:
 * then it is found at its old person and moves (the caller moves it). Deletions name only the item
 * (`personId` absent): found by id alone.
 */
async function loadExisting(
  tx: Queryable,
  items: { id: string; personId?: string }[],
): Promise<Map<string, Existing>> {
  if (items.length === 0) return new Map();
  const ids = items.map((i) => i.id);
  const persons = [...new Set(items.flatMap((i) => (i.personId ? [i.personId] : [])))];
  // one round trip: at their persons first, then by id the ones not found there
  const { rows } =
    persons.length > 0
      ? await tx.query<Existing>(
          `WITH here AS (${EXISTING} WHERE person_id = ANY($2::uuid[]) AND id = ANY($1::uuid[]))
           SELECT * FROM here
           UNION ALL
           ${EXISTING} WHERE id = ANY($3::uuid[]) AND id NOT IN (SELECT id FROM here)`,
          [items.filter((i) => i.personId).map((i) => i.id), persons, ids],
        )
      : await tx.query<Existing>(`${EXISTING} WHERE id = ANY($1::uuid[])`, [ids]);
  const found = new Map<string, Existing>();
  for (const r of rows) if (!found.has(r.id)) found.set(r.id, r);
  return found;
}

/** Superseded versions go to history (the items are at their people by now). */
async function archive(tx: Queryable, items: { id: string; personId: string }[]): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `INSERT INTO clinical_item_version (id, version, person_id, content_hash, deleted, body, superseded_at)
     SELECT id, version, person_id, content_hash, deleted, body, now() FROM clinical_item
      WHERE person_id = ANY($2::uuid[]) AND id = ANY($1::uuid[])
     ON CONFLICT (person_id, id, version) DO NOTHING`,
    [items.map((i) => i.id), [...new Set(items.map((i) => i.personId))]],
  );
}

function isOlder(incoming: string | undefined, stored: string | null): boolean {
  if (!incoming || !stored) return false;
  return new Date(incoming).getTime() < new Date(stored).getTime();
}

/**
 * Writes items (one entry per id; the caller de-duplicates). An item stored under another person
 * than the one it now names moves there first, with its history.
 */
export async function writeItems(tx: Queryable, items: ItemWrite[]): Promise<Written> {
  const existing = await loadExisting(tx, items);
  const results: WriteResult[] = [];
  const toWrite: (ItemWrite & { version: number })[] = [];
  for (const item of items) {
    const prior = existing.get(item.id);
    if (prior && prior.content_hash === item.contentHash && prior.deleted === item.deleted) {
      results.push({ id: item.id, action: 'unchanged', version: prior.version, personId: item.personId });
    } else if (prior && isOlder(item.sourceLastUpdated, prior.source_last_updated)) {
      results.push({ id: item.id, action: 'stale', version: prior.version, personId: item.personId });
    } else if (!prior && item.deleted) {
      // entered-in-error for something never seen: keep it (history matters) but hidden
      toWrite.push({ ...item, version: 1 });
      results.push({ id: item.id, action: 'deleted', version: 1, personId: item.personId });
    } else {
      const version = prior ? prior.version + 1 : 1;
      toWrite.push({ ...item, version });
      results.push({
        id: item.id,
        action: item.deleted ? 'deleted' : prior ? 'updated' : 'created',
        version,
        personId: item.personId,
      });
    }
  }
  // an item written under another person than it was stored under moves there first (a stale or
  // unchanged one stays where it is)
  const moves = toWrite.flatMap((w) => {
    const prior = existing.get(w.id);
    return prior && prior.person_id !== w.personId
      ? [{ id: w.id, from: prior.person_id, to: w.personId }]
      : [];
  });
  await moveItemRows(tx, moves);
  await archive(
    tx,
    toWrite.filter((w) => w.version > 1),
  );
  if (toWrite.length > 0) {
    // One statement for the whole batch: the rows travel as one JSON document (serialised natively,
    // parsed by the server), which is several times cheaper than twenty array parameters. Each body
    // is spliced in as JSON, not as a string holding JSON: the server keeps a json value's text as
    // it came, so the text column receives the body unchanged, without escaping it a second time.
    const rows = await mapWithTurns(toWrite, (w) => {
      const row = JSON.stringify({
        id: w.id,
        person_id: w.personId,
        resource_type: w.resourceType,
        section: w.section,
        source_id: w.sourceId,
        source_org: w.sourceOrg,
        source_local_id: w.sourceLocalId,
        source_patient_id: w.sourcePatientId,
        source_version: w.sourceVersion ?? null,
        source_last_updated: w.sourceLastUpdated ?? null,
        version: w.version,
        content_hash: w.contentHash,
        status: w.status ?? null,
        codes: w.codes,
        security: w.security,
        sensitivity: w.sensitivity,
        effective: w.effective ?? null,
        received_at: w.receivedAt,
        deleted: w.deleted,
        depends_on: w.dependsOn,
        contains: w.contains,
        refs: w.refs,
      });
      return `${row.slice(0, -1)},"body":${serialise(w.resource, w.version)}}`;
    });
    // the same statement says which of the items' persons had labelled items before it (it sees
    // the store as it was when it began): the intake's linked-label walk then needs no probe
    const labelled = await tx.query<{ p: string }>(
      `WITH written AS (
         INSERT INTO clinical_item (${COLUMNS})
         SELECT ${COLUMNS} FROM json_to_recordset($1::json) AS t(${COLUMN_TYPES})
         ON CONFLICT (person_id, id) DO UPDATE SET section = EXCLUDED.section,
           source_org = EXCLUDED.source_org, source_patient_id = EXCLUDED.source_patient_id,
           source_version = EXCLUDED.source_version, source_last_updated = EXCLUDED.source_last_updated,
           version = EXCLUDED.version, content_hash = EXCLUDED.content_hash, status = EXCLUDED.status,
           codes = EXCLUDED.codes, security = EXCLUDED.security, sensitivity = EXCLUDED.sensitivity,
           effective = EXCLUDED.effective, received_at = EXCLUDED.received_at, deleted = EXCLUDED.deleted,
           depends_on = EXCLUDED.depends_on, contains = EXCLUDED.contains, refs = EXCLUDED.refs,
           body = EXCLUDED.body
         RETURNING 1)
       SELECT DISTINCT person_id::text AS p FROM clinical_item
        WHERE person_id = ANY($2::uuid[]) AND cardinality(sensitivity) > 0`,
      [`[${rows.join(',')}]`, [...new Set(items.map((i) => i.personId))]],
    );
    return { results, moves, labelledBefore: labelled.rows.map((r) => r.p) };
  }
  return { results, moves };
}

/** The body as served: decimals as the source spelled them (src/fhir/decimals.ts). */
function serialise(resource: Resource, version: number): string {
  return stringifyKeepingDecimals({ ...resource, meta: { ...resource.meta, versionId: String(version) } });
}

/**
 * A DELETE from the source: the item leaves the view; its last version stays in history. A
 * deletion names only the item (not its patient): it is found by id, and the result says whose.
 */
export async function deleteItems(tx: Queryable, deletes: ItemDelete[]): Promise<WriteResult[]> {
  const existing = await loadExisting(tx, deletes);
  const live = deletes.flatMap((d) => {
    const prior = existing.get(d.id);
    return prior && !prior.deleted ? [{ id: d.id, personId: prior.person_id }] : [];
  });
  await archive(tx, live);
  if (live.length > 0) {
    await tx.query(
      `UPDATE clinical_item SET deleted = true, version = version + 1, received_at = now()
        WHERE person_id = ANY($2::uuid[]) AND id = ANY($1::uuid[])`,
      [live.map((l) => l.id), [...new Set(live.map((l) => l.personId))]],
    );
  }
  return deletes.map((d): WriteResult => {
    const prior = existing.get(d.id);
    if (!prior) return { id: d.id, action: 'not-found' };
    const personId = prior.person_id;
    if (prior.deleted) return { id: d.id, action: 'unchanged', version: prior.version, personId };
    return { id: d.id, action: 'deleted', version: prior.version + 1, personId };
  });
}
