/**
 * Reading the clinical repository. There is one read function and it needs a PolicyFilter, which
 * only the policy module builds: the store never decides who may see what, but it always applies
 * what policy decided, in SQL, so that withheld rows never leave the database.
 */
import type { Queryable } from '../db/index.ts';

/** What the privacy policy withholds from this reader, pushed into the WHERE clause. */
export interface PolicyFilter {
  readonly kind: 'policy-filter';
  /** organisations whose data the person objected to sharing */
  excludeOrgs: string[];
  /** sections (categories) the person objected to sharing, or the reader's role may not see */
  excludeSections: string[];
  /** specific items the person objected to sharing */
  excludeIds: string[];
}

export interface ItemQuery {
  types?: string[];
  /** inclusive lower/upper bounds on the item's effective date (ISO instants) */
  from?: string;
  to?: string;
  status?: string[];
  /** "system|code" values; an item matches if it carries any of them */
  codes?: string[];
  /** only these items (a FHIR read of one item by id) */
  ids?: string[];
}

export interface ItemRow {
  id: string;
  resourceType: string;
  body: string;
  /**
   * the stored items it refers to, as PostgreSQL's array text ("{id,id}"; null for rows stored
   * before references were kept): parsed only by those who need it (see itemRefs), since the
   * driver's generic array parser costs more than the rest of a heavy record's row handling
   */
  refs: string | null;
  /** on every row, the same: why anything of the person's is withheld for everyone (withheldKinds) */
  withheld: string[] | null;
}

/** Why anything is withheld for everyone, from the small partial index of labelled rows. */
const WITHHELD_KIND = `CASE WHEN s LIKE 'linked:%' THEN 'linked' WHEN s LIKE 'review:%' THEN 'pending-review' ELSE 'sensitive' END`;
const WITHHELD_FROM = `FROM clinical_item c, unnest(c.sensitivity) s
  WHERE c.person_id = $1 AND cardinality(c.sensitivity) > 0 AND NOT c.deleted`;

/** The store's fixed rule and the policy's filter, as a WHERE clause over `params`. */
function policyWhere(personId: string, filter: PolicyFilter): { where: string[]; params: unknown[] } {
  const params: unknown[] = [personId];
  const where = ['person_id = $1', 'NOT deleted', 'cardinality(sensitivity) = 0'];
  const add = (clause: string, value: unknown): void => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (filter.excludeOrgs.length > 0) add('NOT (source_org = ANY(?::text[]))', filter.excludeOrgs);
  if (filter.excludeSections.length > 0) add('NOT (section = ANY(?::text[]))', filter.excludeSections);
  if (filter.excludeIds.length > 0) add('NOT (id = ANY(?::uuid[]))', filter.excludeIds);
  return { where, params };
}

/**
 * The person's current items that the policy allows. Items labelled sensitive are never returned,
 * to anyone: that rule is national guidance, so it lives here, unconditionally. References from the
 * returned items to items this reader may not see are removed (see `visibleAmong`, src/gate).
 */
export async function readItems(
  q: Queryable,
  personId: string,
  filter: PolicyFilter,
  query: ItemQuery = {},
): Promise<ItemRow[]> {
  const { where, params } = policyWhere(personId, filter);
  const add = (clause: string, value: unknown): void => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (query.types?.length) add('resource_type = ANY(?::text[])', query.types);
  if (query.from) add('effective >= ?::timestamptz', query.from);
  if (query.to) add('effective <= ?::timestamptz', query.to);
  if (query.status?.length) add('status = ANY(?::text[])', query.status);
  if (query.codes?.length) add('codes && ?::text[]', query.codes);
  if (query.ids?.length) add('id = ANY(?::uuid[])', query.ids);
  const { rows } = await q.query<Omit<ItemRow, 'withheld'> & { withheld: string[] | string | null }>(
    // withheldKinds rides along as an uncorrelated subquery, computed once: one round trip, not two.
    // As text, split once here: as an array the driver parsed the same value again on every row.
    `SELECT id, resource_type AS "resourceType", body, refs::text AS refs,
       (SELECT string_agg(DISTINCT ${WITHHELD_KIND}, ',' ORDER BY ${WITHHELD_KIND}) ${WITHHELD_FROM}) AS withheld
     FROM clinical_item WHERE ${where.join(' AND ')} ORDER BY effective DESC NULLS LAST, id`,
    params,
  );
  const first = rows[0]?.withheld;
  const withheld = typeof first === 'string' ? first.split(',') : null;
  for (const r of rows) r.withheld = withheld;
  return rows as ItemRow[];
}

/**
 * Whose item this is, if it is a current item of this type: where a read of one item starts (the
 * gate then decides access to that person and reads the item through the policy's filter).
 */
export async function itemOwner(q: Queryable, resourceType: string, id: string): Promise<string | undefined> {
  const { rows } = await q.query<{ personId: string }>(
    `SELECT person_id AS "personId" FROM clinical_item WHERE id = $1 AND resource_type = $2 AND NOT deleted`,
    [id, resourceType],
  );
  return rows[0]?.personId;
}

/** The ids in an ItemRow's refs. */
export function itemRefs(row: ItemRow): string[] {
  return row.refs && row.refs.length > 2 ? row.refs.slice(1, -1).split(',') : [];
}

/** Which of `ids` this reader may see (the same rule and filter as readItems, no search terms). */
export async function visibleAmong(
  q: Queryable,
  personId: string,
  filter: PolicyFilter,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { where, params } = policyWhere(personId, filter);
  params.push(ids);
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM clinical_item WHERE ${where.join(' AND ')} AND id = ANY($${params.length}::uuid[])`,
    params,
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Why anything of this person's was withheld for everyone: "sensitive" (a code list, an
 * organisation or a source's label) and/or "linked" (linked to such an item). For the audit trail's
 * reason codes; never the category, and never shown to the reader. One probe of a small partial
 * index for almost everyone.
 */
export async function withheldKinds(q: Queryable, personId: string): Promise<string[]> {
  const { rows } = await q.query<{ kind: string }>(
    `SELECT DISTINCT ${WITHHELD_KIND} AS kind ${WITHHELD_FROM} ORDER BY 1`,
    [personId],
  );
  return rows.map((r) => r.kind);
}

export interface ItemSummary {
  sourceOrg: string;
  sourceId: string;
  items: number;
  lastReceived: string | null;
}

/** Counts of a person's items per source, for operators and the sources panel (no content). */
export async function countItemsBySource(q: Queryable, personId: string): Promise<ItemSummary[]> {
  const { rows } = await q.query<ItemSummary>(
    `SELECT source_org AS "sourceOrg", source_id AS "sourceId", count(*)::int AS items, max(received_at)::text AS "lastReceived"
     FROM clinical_item WHERE person_id = $1 AND NOT deleted GROUP BY source_org, source_id ORDER BY source_id`,
    [personId],
  );
  return rows;
}

export interface ItemVersion {
  body: string;
  deleted: boolean;
  /** the organisation that sent the item (the current row's: a source does not change) */
  sourceOrg: string | null;
}

/**
 * One superseded version of a person's item, as it was served then (a vread). Not filtered: the
 * caller (the gate) reads it only for an item the reader may see now, and classifies the version
 * by its own content.
 */
export async function readItemVersion(
  q: Queryable,
  personId: string,
  id: string,
  version: number,
): Promise<ItemVersion | undefined> {
  const { rows } = await q.query<ItemVersion>(
    `SELECT v.body, v.deleted,
       (SELECT source_org FROM clinical_item WHERE person_id = $1 AND id = $2) AS "sourceOrg"
     FROM clinical_item_version v WHERE v.person_id = $1 AND v.id = $2 AND v.version = $3`,
    [personId, id, version],
  );
  return rows[0];
}

/** An item's stored versions, newest first (operators; not a clinical read path). */
export async function itemHistory(
  q: Queryable,
  id: string,
): Promise<{ version: number; deleted: boolean; contentHash: string }[]> {
  const { rows } = await q.query<{ version: number; deleted: boolean; contentHash: string }>(
    // by id, the item's person first (the versions are keyed by person and item)
    `WITH item AS (SELECT person_id, version, deleted, content_hash FROM clinical_item WHERE id = $1)
     SELECT version, deleted, content_hash AS "contentHash" FROM item
     UNION ALL SELECT v.version, v.deleted, v.content_hash FROM clinical_item_version v
      WHERE v.person_id IN (SELECT person_id FROM item) AND v.id = $1 ORDER BY version DESC`,
    [id],
  );
  return rows;
}
