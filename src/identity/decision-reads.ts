/**
 * Everything a batch's decisions read, in one statement and so one round trip: the candidate
 * records that share a blocking key (with their person's NHS number), the persons that already
 * hold the batch's trusted NHS numbers, the decisions administrators made about these records,
 * and the region's counts of the batch's names.
 *
 * One statement, because on a loaded machine each round trip costs more than the work it carries
 * (the profile of `npm run bench:identity -- --profile` showed 7 statements at 0.3–0.5 ms each,
 * most of it waiting). The candidate's person is looked up per candidate row (a scalar subquery
 * on the primary key): as a join, a plan made before the tables had statistics, or a prepared
 * statement's generic plan, hashed the whole person table for every decision (EXPLAIN ANALYZE:
 * 8 ms at 10,000 persons, growing with the region).
 *
 * A batch of one record (intake's usual case, and the one whose time counts) has a statement of
 * its own, with single values where the batch's has arrays (its key probes are the one array):
 * PostgreSQL estimates an array parameter at 10 elements, so with arrays for the NHS number and
 * the local id the batch statement's generic plan looked 15 times as costly as a plan for the
 * actual values, and every execution was planned afresh (EXPLAIN ANALYZE at 100,000 persons: 0.4 ms
 * of planning for 0.1 ms of execution). Without NULL parameters for a custom plan to fold away (an
 * absent value is '', which no row holds), the plan cache keeps the generic plan after five
 * executions (pg_prepared_statements after 40 decisions of match keys v4: 35 generic, 5 custom).
 * plan_cache_mode is left alone: it is the whole session's.
 */
import type { Queryable } from '../db/index.ts';
import type { CandidateRecord, Remembered } from './decide.ts';
import type { MatchFeatures } from './features.ts';

export interface DecisionReads {
  candidates: CandidateRecord[];
  personByNhs: Map<string, string>;
  /** every record of the persons that hold the batch's trusted NHS numbers (a birth date that
   * disagrees with theirs goes to review instead of linking) */
  nhsPersonRecords: CandidateRecord[];
  remembered: Map<string, Remembered>;
  /** share of the region's records with a name, by `field|value` (names the trainer counted) */
  termShares: Map<string, number>;
}

/** Blocking keys to search: every keyProbes of the records. */
export interface KeySet {
  probes: string[];
}

export interface DecisionQuery {
  sourceId: string;
  localIds: string[];
  /** keys of records without a trusted NHS number: every candidate counts */
  anyPerson: KeySet;
  /**
   * keys of records with a trusted NHS number: only candidates whose person has no NHS number
   * count (the person with the same number is found by the number; a person with another is
   * another person). After a GP feed, that is almost none, so the bulk of a region reads little.
   */
  unnumbered: KeySet;
  trustedNhs: string[];
  /** no record of the batch carries a valid NHS number (trusted or not) */
  noValidNhs: boolean;
  names: { field: string; value: string }[];
}

const READS_SQL = `
SELECT
  (SELECT coalesce(json_agg(json_build_array(c.source_id, c.local_id, c.person_id, c.person_nhs,
            c.features::json)), '[]')::text
     FROM (SELECT l.source_id, l.local_id, l.person_id, l.features,
                  (SELECT p.nhs_number FROM person p WHERE p.id = l.person_id) AS person_nhs,
                  l.block_keys && $1::text[] AS for_any
             FROM person_link l
            WHERE l.block_keys && ($1::text[] || $7::text[]) AND l.features IS NOT NULL) AS c
    WHERE c.for_any OR c.person_nhs IS NULL) AS candidates,
  (SELECT coalesce(json_agg(json_build_array(p.nhs_number, p.id)), '[]')::text
     FROM person p WHERE p.nhs_number = ANY($2::text[])) AS by_nhs,
  (SELECT coalesce(json_agg(json_build_array(l.source_id, l.local_id, l.person_id, p.nhs_number,
            l.features::json)), '[]')::text
     FROM person p JOIN person_link l ON l.person_id = p.id
    WHERE p.nhs_number = ANY($2::text[]) AND l.features IS NOT NULL) AS nhs_records,
  (SELECT coalesce(json_agg(json_build_array(d.local_id, d.other_source_id || '|' || d.other_local_id,
            d.decision, l.person_id)), '[]')::text
     FROM identity_decision d
     LEFT JOIN person_link l ON l.source_id = d.other_source_id AND l.local_id = d.other_local_id
    WHERE d.source_id = $3 AND d.local_id = ANY($4::text[])) AS remembered,
  (SELECT coalesce(json_agg(json_build_array(t.field, t.value, t.share)), '[]')::text
     FROM identity_term_frequency t
     JOIN unnest($5::text[], $6::text[]) AS w(f, v) ON t.field = w.f AND t.value = w.v) AS tf`;

/**
 * The same reads for one record. The candidates' subquery is kept apart (OFFSET 0) so that the
 * person's NHS number is looked up once per candidate row, not again in the filter.
 *
 * A record with a trusted NHS number that a person already holds links to that person whatever
 * the candidates say (decideLink's first rule; a birth-date conflict is judged on that person's own
 * records, `nhs_records`), so its candidates are not read at all: the condition on `$12` has no
 * column of `l` in it, and PostgreSQL tests it once, before the scan (a one-time filter). That is
 * most of intake (a known patient's new version or another source's record of them); at 1,000,000
 * persons it saves reading ~130 candidate records and their persons, most not in memory.
 */
const oneRecordSql = (personNhs: string) => `
SELECT
  (SELECT coalesce(json_agg(json_build_array(c.source_id, c.local_id, c.person_id, c.person_nhs,
            c.features::json)), '[]')::text
     FROM (SELECT l.source_id, l.local_id, l.person_id, l.features,
                  ${personNhs} AS person_nhs
             FROM person_link l
            WHERE l.block_keys && $1::text[] AND l.features IS NOT NULL
              AND NOT ($2::boolean AND EXISTS (SELECT 1 FROM person q WHERE q.nhs_number = $3::text))
           OFFSET 0) AS c
    WHERE NOT $2::boolean OR c.person_nhs IS NULL) AS candidates,
  (SELECT coalesce(json_agg(json_build_array(p.nhs_number, p.id)), '[]')::text
     FROM person p WHERE p.nhs_number = $3::text) AS by_nhs,
  (SELECT coalesce(json_agg(json_build_array(l.source_id, l.local_id, l.person_id, p.nhs_number,
            l.features::json)), '[]')::text
     FROM person p JOIN person_link l ON l.person_id = p.id
    WHERE p.nhs_number = $3::text AND l.features IS NOT NULL) AS nhs_records,
  (SELECT coalesce(json_agg(json_build_array(d.local_id, d.other_source_id || '|' || d.other_local_id,
            d.decision, l.person_id)), '[]')::text
     FROM identity_decision d
     LEFT JOIN person_link l ON l.source_id = d.other_source_id AND l.local_id = d.other_local_id
    WHERE d.source_id = $4::text AND d.local_id = $5::text) AS remembered,
  (SELECT coalesce(json_agg(json_build_array(t.field, t.value, t.share)), '[]')::text
     FROM identity_term_frequency t
    WHERE (t.field = 'family' AND t.value = $6::text) OR (t.field = 'given' AND t.value = $7::text)) AS tf`;

/**
 * Two texts, so that each keeps its own generic plan: with the candidates' persons' NHS numbers,
 * and without, for a record without a valid NHS number, whose decision does not look at them
 * (decide.ts: they only block a link or limit a claim). At 1,000,000 persons that is about 130
 * lookups of the person table fewer for such a record, most of them reads of pages not in memory.
 */
const ONE_RECORD_SQL = oneRecordSql('(SELECT p.nhs_number FROM person p WHERE p.id = l.person_id)');
const ONE_RECORD_NO_PERSON_NHS_SQL = oneRecordSql('NULL::text');

type Row = Record<'candidates' | 'by_nhs' | 'nhs_records' | 'remembered' | 'tf', string>;

/** The one record's parameters, when the query is for one record. */
function oneRecordParams(q: DecisionQuery): unknown[] | undefined {
  if (q.localIds.length !== 1) return undefined;
  const trusted = q.trustedNhs.length === 1;
  const name = (field: string) => q.names.find((n) => n.field === field)?.value ?? '';
  return [
    (trusted ? q.unnumbered : q.anyPerson).probes,
    trusted,
    q.trustedNhs[0] ?? '',
    q.sourceId,
    q.localIds[0],
    name('family'),
    name('given'),
  ];
}

export async function readForDecisions(tx: Queryable, q: DecisionQuery): Promise<DecisionReads> {
  const one = oneRecordParams(q);
  const personNhsRead = !one || !q.noValidNhs;
  const { rows } = one
    ? await tx.query<Row>(personNhsRead ? ONE_RECORD_SQL : ONE_RECORD_NO_PERSON_NHS_SQL, one)
    : await tx.query<Row>(READS_SQL, [
        q.anyPerson.probes,
        [...new Set(q.trustedNhs)],
        q.sourceId,
        q.localIds,
        q.names.map((n) => n.field),
        q.names.map((n) => n.value),
        q.unnumbered.probes,
      ]);
  const row = rows[0]!;
  const records = (json: string): CandidateRecord[] =>
    (JSON.parse(json) as [string, string, string, string | null, MatchFeatures][]).map(
      ([sourceId, localId, personId, personNhs, features]) => ({
        sourceId,
        localId,
        personId,
        personNhs,
        features,
      }),
    );
  const candidates = records(row.candidates);
  if (!personNhsRead) for (const c of candidates) c.personNhs = undefined;
  const remembered = new Map<string, Remembered>();
  for (const [localId, other, decision, person] of JSON.parse(row.remembered) as [
    string,
    string,
    string,
    string | null,
  ][]) {
    const m = remembered.get(localId) ?? { link: new Set<string>(), apart: new Set<string>() };
    if (decision === 'apart') m.apart.add(other);
    else if (person) m.link.add(person);
    remembered.set(localId, m);
  }
  const tf = JSON.parse(row.tf) as [string, string, number][];
  return {
    candidates,
    personByNhs: new Map(JSON.parse(row.by_nhs) as [string, string][]),
    nhsPersonRecords: records(row.nhs_records),
    remembered,
    termShares: new Map(tf.map(([f, v, share]) => [`${f}|${v}`, Number(share)])),
  };
}
