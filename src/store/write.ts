/**
 * Writing the clinical repository: insert new items, replace changed ones (the old version goes to
 * clinical_item_version), ignore identical re-sends and older versions, mark deletions.
 * Whole batches go in a handful of statements (unnest arrays) so that bulk loads stay fast.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';

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

export type WriteResult =
  | { id: string; action: 'created' | 'updated' | 'deleted'; version: number }
  | { id: string; action: 'unchanged' | 'stale'; version: number }
  | { id: string; action: 'not-found' };

interface Existing {
  id: string;
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

async function loadExisting(tx: Queryable, ids: string[]): Promise<Map<string, Existing>> {
  if (ids.length === 0) return new Map();
  const { rows } = await tx.query<Existing>(
    `SELECT id, version, content_hash, source_last_updated::text AS source_last_updated, deleted
     FROM clinical_item WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

async function archive(tx: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    `INSERT INTO clinical_item_version (id, version, person_id, content_hash, deleted, body, superseded_at)
     SELECT id, version, person_id, content_hash, deleted, body, now() FROM clinical_item WHERE id = ANY($1::uuid[])
     ON CONFLICT (id, version) DO NOTHING`,
    [ids],
  );
}

function isOlder(incoming: string | undefined, stored: string | null): boolean {
  if (!incoming || !stored) return false;
  return new Date(incoming).getTime() < new Date(stored).getTime();
}

/** Writes items (one entry per id; the caller de-duplicates). */
export async function writeItems(tx: Queryable, items: ItemWrite[]): Promise<WriteResult[]> {
  const existing = await loadExisting(
    tx,
    items.map((i) => i.id),
  );
  const results: WriteResult[] = [];
  const toWrite: (ItemWrite & { version: number })[] = [];
  for (const item of items) {
    const prior = existing.get(item.id);
    if (prior && prior.content_hash === item.contentHash && prior.deleted === item.deleted) {
      results.push({ id: item.id, action: 'unchanged', version: prior.version });
    } else if (prior && isOlder(item.sourceLastUpdated, prior.source_last_updated)) {
      results.push({ id: item.id, action: 'stale', version: prior.version });
    } else if (!prior && item.deleted) {
      // entered-in-error for something never seen: keep it (history matters) but hidden
      toWrite.push({ ...item, version: 1 });
      results.push({ id: item.id, action: 'deleted', version: 1 });
    } else {
      const version = prior ? prior.version + 1 : 1;
      toWrite.push({ ...item, version });
      results.push({
        id: item.id,
        action: item.deleted ? 'deleted' : prior ? 'updated' : 'created',
        version,
      });
    }
  }
  await archive(
    tx,
    toWrite.filter((w) => w.version > 1).map((w) => w.id),
  );
  if (toWrite.length > 0) {
    // One statement for the whole batch: the rows travel as one JSON document (serialised natively,
    // parsed by the server), which is several times cheaper than twenty array parameters. Each body
    // is spliced in as JSON, not as a string holding JSON: the server keeps a json value's text as
    // it came, so the text column receives the body unchanged, without escaping it a second time.
    const rows = toWrite.map((w) => {
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
    await tx.query(
      `INSERT INTO clinical_item (${COLUMNS})
       SELECT ${COLUMNS} FROM json_to_recordset($1::json) AS t(${COLUMN_TYPES})
       ON CONFLICT (id) DO UPDATE SET person_id = EXCLUDED.person_id, section = EXCLUDED.section,
         source_org = EXCLUDED.source_org, source_patient_id = EXCLUDED.source_patient_id,
         source_version = EXCLUDED.source_version, source_last_updated = EXCLUDED.source_last_updated,
         version = EXCLUDED.version, content_hash = EXCLUDED.content_hash, status = EXCLUDED.status,
         codes = EXCLUDED.codes, security = EXCLUDED.security, sensitivity = EXCLUDED.sensitivity,
         effective = EXCLUDED.effective, received_at = EXCLUDED.received_at, deleted = EXCLUDED.deleted,
         depends_on = EXCLUDED.depends_on, contains = EXCLUDED.contains, refs = EXCLUDED.refs,
         body = EXCLUDED.body`,
      [`[${rows.join(',')}]`],
    );
  }
  return results;
}

function serialise(resource: Resource, version: number): string {
  return JSON.stringify({ ...resource, meta: { ...resource.meta, versionId: String(version) } });
}

/** A DELETE from the source: the item leaves the view; its last version stays in history. */
export async function deleteItems(tx: Queryable, deletes: ItemDelete[]): Promise<WriteResult[]> {
  const existing = await loadExisting(
    tx,
    deletes.map((d) => d.id),
  );
  const live = deletes.filter((d) => existing.get(d.id) && !existing.get(d.id)!.deleted).map((d) => d.id);
  await archive(tx, live);
  if (live.length > 0) {
    await tx.query(
      `UPDATE clinical_item SET deleted = true, version = version + 1, received_at = now() WHERE id = ANY($1::uuid[])`,
      [live],
    );
  }
  return deletes.map((d): WriteResult => {
    const prior = existing.get(d.id);
    if (!prior) return { id: d.id, action: 'not-found' };
    if (prior.deleted) return { id: d.id, action: 'unchanged', version: prior.version };
    return { id: d.id, action: 'deleted', version: prior.version + 1 };
  });
}

/** Moves a source record's items to another person (identity relinked it); returns their ids. */
export async function reassignItems(
  tx: Queryable,
  sourceId: string,
  sourcePatientId: string,
  toPersonId: string,
): Promise<string[]> {
  const r = await tx.query<{ id: string }>(
    'UPDATE clinical_item SET person_id = $3 WHERE source_id = $1 AND source_patient_id = $2 AND person_id <> $3 RETURNING id',
    [sourceId, sourcePatientId, toPersonId],
  );
  return r.rows.map((row) => row.id);
}
