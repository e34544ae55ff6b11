/**
 * Sensitivity labels. An item's own labels come from its codes, its source's security labels and
 * its organisation (policy's classifier, at ingest and after a code-list change). Items linked to a
 * labelled item get "linked:<category>" labels too, following src/fhir/links.ts: an item that
 * depends on a withheld item, or is contained in one, is withheld. The store's one read excludes
 * every labelled row, whatever the label.
 */
import type { Queryable } from '../db/index.ts';
import type { Resource } from '@medplum/fhirtypes';
import { collectSecurityLabels } from '../fhir/index.ts';

export const LINKED_PREFIX = 'linked:';
const SEP = '\u001f';

/**
 * CTEs `edges` and `walk(id, cat)` (for WITH RECURSIVE): what flows along the links of the items in
 * CTE `items` (with id, depends_on and contains), from the `seeds` (a SELECT of id, cat): from an
 * item to the items that depend on it (src/fhir/links.ts), and from an item to its parts. Labels
 * travel this way, and so does retention's maternity and mental-health classification.
 */
/**
 * Run before a statement built on linkWalkSql, inside its transaction: the recursive walk's row
 * estimates are astronomical, so PostgreSQL would JIT-compile it, about 400 ms of compiling for a
 * statement that runs in a few milliseconds (measured, a 729-item person). Per transaction rather
 * than per connection, so that it also holds behind a connection pooler.
 */
export async function walkWithoutJit(tx: Queryable): Promise<void> {
  await tx.query('SET LOCAL jit = off');
}

export function linkWalkSql(items: string, seeds: string): string {
  return `edges AS (
       SELECT d AS src, x.id AS dst FROM ${items} x, unnest(x.depends_on) d
       UNION ALL
       SELECT x.id, k FROM ${items} x, unnest(x.contains) k
     ),
     walk(id, cat) AS (
       ${seeds}
       UNION
       SELECT e.dst, w.cat FROM walk w JOIN edges e ON e.src = w.id
     )`;
}

/**
 * Recomputes the linked labels of the given persons' items (or everyone's), in SQL: a recursive walk
 * from each item with an own label along depends-on edges (to the items that depend on it) and
 * contains edges (to its parts). Only persons with a labelled item are visited, found by a partial
 * index, so for almost everyone this is one index probe. Returns the number of items changed.
 */
export async function propagateLinkedLabels(
  tx: Queryable,
  personIds: string[] | 'all',
  /** those of personIds known to have labelled items (no probe then); a superset is harmless */
  knownLabelled?: string[],
): Promise<number> {
  if (personIds !== 'all' && personIds.length === 0) return 0;
  // First the persons, from the partial index alone; then the walk over their items, by person id.
  // As one statement the planner could not know how few persons there are, and joined every item
  // in the table (a sequential scan of the whole store on each intake request).
  const wanted = personIds === 'all' ? undefined : new Set(personIds);
  const labelled =
    knownLabelled && wanted
      ? { rows: knownLabelled.filter((p) => wanted.has(p)).map((p) => ({ p })) }
      : await tx.query<{ p: string }>(
          personIds === 'all'
            ? `SELECT DISTINCT person_id::text AS p FROM clinical_item WHERE cardinality(sensitivity) > 0`
            : `SELECT DISTINCT person_id::text AS p FROM clinical_item WHERE person_id = ANY($1::uuid[]) AND cardinality(sensitivity) > 0`,
          personIds === 'all' ? [] : [personIds],
        );
  if (labelled.rows.length === 0) return 0;
  await walkWithoutJit(tx);
  const r = await tx.query(
    `WITH RECURSIVE
     items AS (
       SELECT c.id, c.deleted, coalesce(c.depends_on, '{}') AS depends_on, coalesce(c.contains, '{}') AS contains,
         c.sensitivity, ARRAY(SELECT s FROM unnest(c.sensitivity) s WHERE s NOT LIKE '${LINKED_PREFIX}%') AS own
       FROM clinical_item c WHERE c.person_id = ANY($1::uuid[])
     ),
     ${linkWalkSql('items', 'SELECT i.id, o FROM items i, unnest(i.own) o WHERE NOT i.deleted')},
     linked AS (
       SELECT e.dst AS id, array_agg(DISTINCT '${LINKED_PREFIX}' || w.cat) AS labels
       FROM walk w JOIN edges e ON e.src = w.id GROUP BY e.dst
     ),
     next AS (
       SELECT i.id, i.sensitivity,
         ARRAY(SELECT DISTINCT x FROM unnest(i.own || coalesce(l.labels, '{}')) x ORDER BY x) AS labels
       FROM items i LEFT JOIN linked l ON l.id = i.id
     )
     UPDATE clinical_item c SET sensitivity = n.labels FROM next n
     WHERE c.person_id = ANY($1::uuid[]) AND c.id = n.id AND c.sensitivity IS DISTINCT FROM n.labels`,
    [labelled.rows.map((x) => x.p)],
  );
  return r.rowCount ?? 0;
}

/**
 * Recomputes the own labels of every item (the code lists changed), keeping linked labels for the
 * propagation that follows; derives the links of rows stored before links were kept. Returns the
 * number of rows changed.
 */
export async function relabelItems(
  tx: Queryable,
  label: (codes: string[], security: string[], sourceOrg: string, resource: unknown) => string[],
  linksOf: (body: string) => { dependsOn: string[]; contains: string[]; refs: string[] },
  /** runs after the own labels are set and before the links are walked (review decisions) */
  settle?: (tx: Queryable) => Promise<unknown>,
  batchSize = 5000,
): Promise<number> {
  let changed = 0;
  // walked in key order (person, item)
  const zero = '00000000-0000-0000-0000-000000000000';
  let after = { person: zero, id: zero };
  for (;;) {
    const { rows } = await tx.query<{
      id: string;
      personId: string;
      codes: string[];
      security: string[];
      sensitivity: string[];
      sourceOrg: string;
      body: string;
      unlinked: boolean;
    }>(
      `SELECT id, person_id AS "personId", codes, security, sensitivity, source_org AS "sourceOrg", body,
         depends_on IS NULL AS unlinked
       FROM clinical_item WHERE (person_id, id) > ($1::uuid, $2::uuid) ORDER BY person_id, id LIMIT $3`,
      [after.person, after.id, batchSize],
    );
    if (rows.length === 0) break;
    const updates = rows
      .map((r) => {
        const linked = r.sensitivity.filter((s) => s.startsWith(LINKED_PREFIX));
        const body = JSON.parse(r.body) as Resource;
        // labels the body carries that an item stored before they were read has not in its column
        const security = [...new Set([...r.security, ...collectSecurityLabels(body)])];
        const own = label(r.codes, security, r.sourceOrg, body);
        const next = [...new Set([...own, ...linked])].sort();
        const links = r.unlinked ? linksOf(r.body) : undefined;
        return { id: r.id, personId: r.personId, next, links, was: r.sensitivity };
      })
      .filter((u) => u.links || u.next.join(SEP) !== u.was.join(SEP));
    if (updates.length > 0) {
      await tx.query(
        `UPDATE clinical_item c SET sensitivity = string_to_array(u.s, E'\\x1f'),
           depends_on = coalesce(u.d::uuid[], c.depends_on), contains = coalesce(u.k::uuid[], c.contains),
           refs = coalesce(u.r::uuid[], c.refs)
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[]) AS u(id, s, d, k, r, p)
         WHERE c.person_id = u.p AND c.id = u.id`,
        [
          updates.map((u) => u.id),
          updates.map((u) => u.next.join(SEP)),
          updates.map((u) => (u.links ? `{${u.links.dependsOn.join(',')}}` : null)),
          updates.map((u) => (u.links ? `{${u.links.contains.join(',')}}` : null)),
          updates.map((u) => (u.links ? `{${u.links.refs.join(',')}}` : null)),
          updates.map((u) => u.personId),
        ],
      );
      changed += updates.length;
    }
    const last = rows[rows.length - 1]!;
    after = { person: last.personId, id: last.id };
  }
  await settle?.(tx);
  return changed + (await propagateLinkedLabels(tx, 'all'));
}

export interface LabelledItem {
  id: string;
  personId: string;
  sensitivity: string[];
  body: string;
}

/**
 * Current items (of these ids, or all) with a label starting with `prefix` (the review queue's
 * "review:"), with their bodies: the few that the text screen flagged.
 */
export async function itemsLabelled(
  tx: Queryable,
  prefix: string,
  items: ItemKey[] | 'all',
): Promise<LabelledItem[]> {
  if (items !== 'all' && items.length === 0) return [];
  const labelled = `cardinality(sensitivity) > 0 AND NOT deleted
       AND EXISTS (SELECT 1 FROM unnest(sensitivity) s WHERE starts_with(s, $1))`;
  const { rows } = await tx.query<LabelledItem>(
    items === 'all'
      ? `SELECT id, person_id AS "personId", sensitivity, body FROM clinical_item WHERE ${labelled}`
      : `SELECT id, person_id AS "personId", sensitivity, body FROM clinical_item
          WHERE person_id = ANY($3::uuid[]) AND id = ANY($2::uuid[]) AND ${labelled}`,
    items === 'all' ? [prefix] : [prefix, items.map((i) => i.id), [...new Set(items.map((i) => i.personId))]],
  );
  return rows;
}

/** An item by its key. */
export interface ItemKey {
  id: string;
  personId: string;
}

/** Sets items' labels (own and linked, as given); the caller propagates links afterwards. */
export async function setItemLabels(
  tx: Queryable,
  updates: (ItemKey & { labels: string[] })[],
): Promise<void> {
  if (updates.length === 0) return;
  await tx.query(
    `UPDATE clinical_item c SET sensitivity = CASE WHEN u.s = '' THEN '{}'::text[] ELSE string_to_array(u.s, E'\\x1f') END
     FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS u(id, s, p) WHERE c.person_id = u.p AND c.id = u.id`,
    [
      updates.map((u) => u.id),
      updates.map((u) => [...new Set(u.labels)].sort().join(SEP)),
      updates.map((u) => u.personId),
    ],
  );
}
