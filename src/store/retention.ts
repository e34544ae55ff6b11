/**
 * The SQL behind retention (src/retention decides; this finds and removes). Persons are visited in
 * batches in id order. For each batch: one query names the persons and the distinct codes their
 * items carry (retention classifies those codes once each); one gathers what the decision needs
 * per person (dates and counts, never content); one statement then removes (or, in a dry run,
 * counts) the planned items with their stored versions and the relationship facts derived from
 * them, and the last the source links, remaining facts and person rows of those whose whole record
 * goes. Audit rows are never touched.
 *
 * A plan is carried out only for a person whose record has not changed since it was read: an item
 * received or a source record updated after the plan's stamp means they are back in contact, so they
 * are skipped (and counted) rather than removed on stale facts. (An item that arrives between the
 * batch's code query and its facts query, carrying a code no item of the batch had, is judged
 * without that code; it would have to be back-dated by years to matter.)
 */
import type { Database, Queryable } from '../db/index.ts';
import { linkWalkSql, walkWithoutJit } from './labels.ts';

/** Items of one kind (maternity, mental health): by source organisation or by a code they carry. */
export interface ItemMatcher {
  organisations: string[];
  /** exact "system|code" values */
  codes: string[];
}

export interface RetentionFactsRow {
  personId: string;
  lastContact: number | null;
  lastReceived: number | null;
  maternityLast: number | null;
  mentalHealthLast: number | null;
  total: number;
  maternity: number;
  mentalHealth: number;
  both: number;
  birthDates: string[];
  /** the newest change to the person's items or links, as the database wrote it */
  stamp: string | null;
}

export interface RetentionPlanRow {
  personId: string;
  keepMaternity: boolean;
  keepMentalHealth: boolean;
  whole: boolean;
  stamp: string | null;
}

export interface RetentionRemoval {
  /** persons whose plan was carried out (or counted) */
  done: string[];
  /** persons skipped because their record changed after it was read */
  changed: string[];
  items: number;
  versions: number;
  relationshipFacts: number;
  personLinks: number;
  persons: number;
}

/** SQL that is true when item row `c` matches, with the matcher's two arrays at $n and $n+1. */
function matches(n: number): string {
  return `(c.source_org = ANY($${n}::text[]) OR c.codes && $${n + 1}::text[])`;
}
const params = (m: ItemMatcher): unknown[] => [m.organisations, m.codes];

/**
 * CTEs (for WITH RECURSIVE) ending in `i`: every item of the persons in $1 with whether it is
 * maternity (mat) or mental health (mh), with the matchers' arrays at $matN.. and $mhN... An item is
 * one by its own organisation or codes, or by its links (src/fhir/links.ts), as the privacy policy's
 * linked labels are: an observation made at an antenatal encounter is part of the maternity record,
 * and so are a maternity report's results. Keeping them with the record errs towards keeping longer.
 */
function classifiedItems(matN: number, mhN: number): string {
  return `own AS (
       SELECT c.id, c.person_id, c.effective, c.received_at, c.deleted,
         coalesce(c.depends_on, '{}') AS depends_on, coalesce(c.contains, '{}') AS contains,
         ${matches(matN)} AS own_mat, ${matches(mhN)} AS own_mh
       FROM clinical_item c WHERE c.person_id = ANY($1::uuid[])
     ),
     ${linkWalkSql('own', `SELECT id, 'mat' FROM own WHERE own_mat UNION SELECT id, 'mh' FROM own WHERE own_mh`)},
     kinds AS (SELECT id, bool_or(cat = 'mat') AS mat, bool_or(cat = 'mh') AS mh FROM walk GROUP BY id),
     i AS (
       SELECT o.id, o.person_id, o.effective, o.received_at, o.deleted,
         coalesce(k.mat, false) AS mat, coalesce(k.mh, false) AS mh
       FROM own o LEFT JOIN kinds k USING (id)
     )`;
}
const epochMs = (expr: string) => `(extract(epoch FROM ${expr}) * 1000)::float8`;

/** The next `limit` persons after `after` (by id), and the distinct codes their items carry. */
export async function retentionBatch(
  q: Queryable,
  after: string,
  limit: number,
): Promise<{ personIds: string[]; codes: string[] }> {
  const persons = await q.query<{ id: string }>(
    'SELECT id::text AS id FROM person WHERE id > $1::uuid ORDER BY id LIMIT $2',
    [after, limit],
  );
  const personIds = persons.rows.map((r) => r.id);
  if (personIds.length === 0) return { personIds, codes: [] };
  // every query names the persons as "= ANY(array)": the planner then reads just their rows by
  // the person index, where a join to a list it cannot size invites a scan of the whole table
  const { rows } = await q.query<{ codes: string[] | null }>(
    `SELECT array_agg(DISTINCT code) AS codes FROM clinical_item c, unnest(c.codes) code
     WHERE c.person_id = ANY($1::uuid[])`,
    [personIds],
  );
  return { personIds, codes: rows[0]?.codes ?? [] };
}

/** What the decision needs about these persons: dates and counts of their items, birth dates. */
export async function retentionFacts(
  db: Database,
  personIds: string[],
  maternity: ItemMatcher,
  mentalHealth: ItemMatcher,
): Promise<RetentionFactsRow[]> {
  // a transaction of its own, only so that the walk runs without JIT
  return db.transaction(async (tx) => {
    await walkWithoutJit(tx);
    return factsOf(tx, personIds, maternity, mentalHealth);
  });
}

async function factsOf(
  q: Queryable,
  personIds: string[],
  maternity: ItemMatcher,
  mentalHealth: ItemMatcher,
): Promise<RetentionFactsRow[]> {
  const { rows } = await q.query<RetentionFactsRow>(
    `WITH RECURSIVE p AS (SELECT unnest($1::uuid[]) AS id),
     ${classifiedItems(2, 4)},
     agg AS (
       SELECT person_id,
         max(effective) FILTER (WHERE NOT deleted) AS last_contact,
         max(effective) FILTER (WHERE NOT deleted AND mat) AS mat_last,
         max(effective) FILTER (WHERE NOT deleted AND mh) AS mh_last,
         max(received_at) AS last_received,
         count(*)::int AS total, count(*) FILTER (WHERE mat)::int AS n_mat,
         count(*) FILTER (WHERE mh)::int AS n_mh, count(*) FILTER (WHERE mat AND mh)::int AS n_both
       FROM i GROUP BY person_id
     ),
     links AS (
       SELECT l.person_id, max(l.updated_at) AS updated,
         array_remove(array_agg(l.demographics::json->>'birthDate'), NULL) AS birth_dates
       FROM person_link l WHERE l.person_id = ANY($1::uuid[]) GROUP BY l.person_id
     )
     SELECT p.id AS "personId",
       ${epochMs('agg.last_contact')} AS "lastContact",
       ${epochMs('greatest(agg.last_received, links.updated)')} AS "lastReceived",
       ${epochMs('agg.mat_last')} AS "maternityLast", ${epochMs('agg.mh_last')} AS "mentalHealthLast",
       coalesce(agg.total, 0) AS total, coalesce(agg.n_mat, 0) AS maternity,
       coalesce(agg.n_mh, 0) AS "mentalHealth", coalesce(agg.n_both, 0) AS both,
       coalesce(links.birth_dates, '{}') AS "birthDates",
       greatest(agg.last_received, links.updated)::text AS stamp
     FROM p LEFT JOIN agg ON agg.person_id = p.id LEFT JOIN links ON links.person_id = p.id
     ORDER BY p.id`,
    [personIds, ...params(maternity), ...params(mentalHealth)],
  );
  return rows;
}

/**
 * Carries out (or, with dryRun, counts) a batch's plans in the caller's transaction. Every planned
 * person has an expired record: their items go except maternity / mental-health ones they keep.
 */
export async function removeExpired(
  tx: Queryable,
  plans: RetentionPlanRow[],
  maternity: ItemMatcher,
  mentalHealth: ItemMatcher,
  dryRun: boolean,
): Promise<RetentionRemoval> {
  const empty = {
    done: [],
    changed: [],
    items: 0,
    versions: 0,
    relationshipFacts: 0,
    personLinks: 0,
    persons: 0,
  };
  if (plans.length === 0) return empty;
  await walkWithoutJit(tx);
  const target = `
    ${classifiedItems(6, 8)},
    plan AS (
      SELECT * FROM unnest($1::uuid[], $2::boolean[], $3::boolean[], $4::boolean[], $5::timestamptz[])
        AS t(person_id, keep_mat, keep_mh, whole, stamp)
    ),
    fresh AS (
      SELECT plan.* FROM plan
      WHERE NOT EXISTS (SELECT 1 FROM clinical_item n WHERE n.person_id = plan.person_id
                          AND n.person_id = ANY($1::uuid[]) AND n.received_at > coalesce(plan.stamp, '-infinity'))
        AND NOT EXISTS (SELECT 1 FROM person_link k WHERE k.person_id = plan.person_id
                          AND k.updated_at > coalesce(plan.stamp, '-infinity'))
    ),
    target AS (
      SELECT i.id FROM i JOIN fresh f ON i.person_id = f.person_id
      WHERE NOT (f.keep_mat AND i.mat) AND NOT (f.keep_mh AND i.mh)
    )`;
  const counted = dryRun
    ? `items AS (SELECT id FROM target),
       versions AS (SELECT 1 FROM clinical_item_version v
                     WHERE v.person_id = ANY($1::uuid[]) AND v.id = ANY(ARRAY(SELECT id FROM items))),
       facts AS (SELECT 1 FROM relationship_fact r
                  WHERE r.person_id = ANY($1::uuid[]) AND r.item_id = ANY(ARRAY(SELECT id FROM items)))`
    : `items AS (DELETE FROM clinical_item c
                  WHERE c.person_id = ANY($1::uuid[]) AND c.id = ANY(ARRAY(SELECT id FROM target)) RETURNING c.id),
       versions AS (DELETE FROM clinical_item_version v
                     WHERE v.person_id = ANY($1::uuid[]) AND v.id = ANY(ARRAY(SELECT id FROM items)) RETURNING 1),
       facts AS (DELETE FROM relationship_fact r
                  WHERE r.person_id = ANY($1::uuid[]) AND r.item_id = ANY(ARRAY(SELECT id FROM items)) RETURNING 1)`;
  const { rows } = await tx.query<{
    fresh: string[] | null;
    whole: string[] | null;
    items: number;
    versions: number;
    facts: number;
  }>(
    `WITH RECURSIVE ${target}, ${counted}
     SELECT (SELECT array_agg(person_id::text) FROM fresh) AS fresh,
       (SELECT array_agg(person_id::text) FROM fresh WHERE whole) AS whole,
       (SELECT count(*) FROM items)::int AS items, (SELECT count(*) FROM versions)::int AS versions,
       (SELECT count(*) FROM facts)::int AS facts`,
    [
      plans.map((p) => p.personId),
      plans.map((p) => p.keepMaternity),
      plans.map((p) => p.keepMentalHealth),
      plans.map((p) => p.whole),
      plans.map((p) => p.stamp),
      ...params(maternity),
      ...params(mentalHealth),
    ],
  );
  const r = rows[0]!;
  const done = r.fresh ?? [];
  const whole = r.whole ?? [];
  const persons = await removePersons(tx, whole, dryRun);
  const doneSet = new Set(done);
  return {
    done,
    changed: plans.map((p) => p.personId).filter((id) => !doneSet.has(id)),
    items: r.items,
    versions: r.versions,
    relationshipFacts: r.facts + persons.facts,
    personLinks: persons.links,
    persons: persons.persons,
  };
}

/**
 * The source links, person rows and remaining relationship facts (those from source records'
 * Patients, e.g. GP registration) of persons whose every item has gone (or would go).
 */
async function removePersons(
  tx: Queryable,
  ids: string[],
  dryRun: boolean,
): Promise<{ links: number; persons: number; facts: number }> {
  if (ids.length === 0) return { links: 0, persons: 0, facts: 0 };
  if (dryRun) {
    const { rows } = await tx.query<{ links: number; facts: number }>(
      `SELECT (SELECT count(*) FROM person_link WHERE person_id = ANY($1::uuid[]))::int AS links,
         (SELECT count(*) FROM relationship_fact r WHERE r.person_id = ANY($1::uuid[])
            AND NOT EXISTS (SELECT 1 FROM clinical_item c WHERE c.person_id = r.person_id AND c.id = r.item_id))::int AS facts`,
      [ids],
    );
    return { links: rows[0]!.links, persons: ids.length, facts: rows[0]!.facts };
  }
  const facts = await tx.query('DELETE FROM relationship_fact WHERE person_id = ANY($1::uuid[])', [ids]);
  const links = await tx.query('DELETE FROM person_link WHERE person_id = ANY($1::uuid[])', [ids]);
  const persons = await tx.query(
    `DELETE FROM person p WHERE p.id = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM clinical_item c WHERE c.person_id = p.id)`,
    [ids],
  );
  return { links: links.rowCount, persons: persons.rowCount, facts: facts.rowCount };
}
