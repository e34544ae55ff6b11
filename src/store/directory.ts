/**
 * Directory entries: the Practitioners and Medications a source sent with its items, kept so that
 * `_include` can return them. They describe a clinician or a drug, not a person, so they are keyed
 * by Sharedcare's id for (source, type, local id), once per source, and never read on their own:
 * only by the ids an item the reader was served refers to (src/gate/includes.ts), and each is
 * classified there by the policy, as an item is.
 */
import type { Queryable } from '../db/index.ts';

export interface DirectoryWrite {
  id: string;
  resourceType: string;
  sourceId: string;
  sourceOrg: string;
  sourceLocalId: string;
  codes: string[];
  security: string[];
  contentHash: string;
  receivedAt: string;
  /** the resource as it will be served (Sharedcare's id, provenance) */
  body: string;
}

export interface DirectoryRow {
  id: string;
  resourceType: string;
  sourceOrg: string;
  codes: string[];
  security: string[];
  body: string;
}

const COLUMN_TYPES = `id uuid, resource_type text, source_id text, source_org text, source_local_id text,
  codes text[], security text[], content_hash text, received_at timestamptz`;
const COLUMNS = COLUMN_TYPES.split(',')
  .map((c) => c.trim().split(' ')[0])
  .join(', ');

/** Inserts new entries and replaces changed ones (an identical re-send changes nothing). */
export async function writeDirectoryEntries(tx: Queryable, entries: DirectoryWrite[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => {
    const row = JSON.stringify({
      id: e.id,
      resource_type: e.resourceType,
      source_id: e.sourceId,
      source_org: e.sourceOrg,
      source_local_id: e.sourceLocalId,
      codes: e.codes,
      security: e.security,
      content_hash: e.contentHash,
      received_at: e.receivedAt,
    });
    // the body spliced in as JSON text, as writeItems does: stored unchanged, not escaped twice
    return `${row.slice(0, -1)},"body":${e.body}}`;
  });
  await tx.query(
    `INSERT INTO directory_entry (${COLUMNS}, body)
     SELECT ${COLUMNS}, body::text FROM json_to_recordset($1::json) AS t(${COLUMN_TYPES}, body json)
     ON CONFLICT (id) DO UPDATE SET source_org = EXCLUDED.source_org, codes = EXCLUDED.codes,
       security = EXCLUDED.security, content_hash = EXCLUDED.content_hash,
       received_at = EXCLUDED.received_at, body = EXCLUDED.body
     WHERE directory_entry.content_hash <> EXCLUDED.content_hash`,
    [`[${rows.join(',')}]`],
  );
}

/** The entries with these ids (of these types), as stored. */
export async function readDirectoryEntries(
  q: Queryable,
  ids: string[],
  types: string[],
): Promise<DirectoryRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await q.query<DirectoryRow>(
    `SELECT id, resource_type AS "resourceType", source_org AS "sourceOrg", codes, security, body
     FROM directory_entry WHERE id = ANY($1::uuid[]) AND resource_type = ANY($2::text[]) ORDER BY id`,
    [ids, types],
  );
  return rows;
}
