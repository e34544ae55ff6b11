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
 * The batch's keys reach the candidates' scan through a scalar subquery, which hides their values
 * from the planner. Seen, a batch of 500 records' ~5,000 keys made PostgreSQL estimate that much of
 * the table overlaps them and scan it all, testing every row's keys against every one of the
 * batch's (`&&` compares each pair): at 1,000,000 persons 309 s a batch against 0.27 s through the
 * GIN index (EXPLAIN ANALYZE), and bulk linking fell from 4,300 records/s to under 200.
 *
 * A decision for one record (intake's usual case, and the one whose time counts) reads through the
 * function `identity_decision_read` (migration 028) instead: its prior link, its decision's locks
 * and these reads in one round trip, where they were two statements. A read in the same statement
 * as the locks would use the snapshot taken before the locks were waited for; each statement of
 * the function takes its own, so the reads see what a decision that held the locks committed. Its
 * statements keep generic plans (no NULL parameters for a custom plan to fold away: an absent
 * value is '', which no row holds).
 */
import type { Queryable } from '../db/index.ts';
import type { CandidateRecord, Remembered } from './decide.ts';
import type { MatchFeatures } from './features.ts';
import type { Prior } from './priors.ts';

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
            WHERE l.block_keys && (SELECT $1::text[] || $7::text[]) AND l.features IS NOT NULL) AS c
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

type Row = Record<'candidates' | 'by_nhs' | 'nhs_records' | 'remembered' | 'tf', string>;

export async function readForDecisions(tx: Queryable, q: DecisionQuery): Promise<DecisionReads> {
  const { rows } = await tx.query<Row>(READS_SQL, [
    q.anyPerson.probes,
    [...new Set(q.trustedNhs)],
    q.sourceId,
    q.localIds,
    q.names.map((n) => n.field),
    q.names.map((n) => n.value),
    q.unnumbered.probes,
  ]);
  return decodeReads(rows[0]!, true);
}

/**
 * One record's prior link and, unless its prior has `contentHash` (unchanged: nothing to decide),
 * its decision's locks and reads, in one round trip (migration 028).
 *
 * A record with a trusted NHS number that a person already holds links to that person whatever
 * the candidates say (decideLink's first rule; a birth-date conflict is judged on that person's own
 * records, `nhs_records`), so its candidates are not read at all: the function's condition on
 * `p_trusted` has no column of the candidates' table in it, and PostgreSQL tests it once, before
 * the scan. That is most of intake (a known patient's new version or another source's record of
 * them); at 1,000,000 persons it saves reading ~130 candidate records and their persons.
 *
 * A record without a valid NHS number does not read its candidates' persons' NHS numbers: its
 * decision does not look at them (decide.ts: they only block a link or limit a claim), and at
 * 1,000,000 persons that is ~130 lookups of the person table fewer, most of pages not in memory.
 */
export async function readOneRecord(
  tx: Queryable,
  q: DecisionQuery,
  contentHash: string,
  locks: string[],
): Promise<{ prior?: Prior; reads?: DecisionReads }> {
  const trusted = q.trustedNhs.length === 1;
  const name = (field: string) => q.names.find((n) => n.field === field)?.value ?? '';
  const personNhsRead = !q.noValidNhs;
  const { rows } = await tx.query<Record<`o_${keyof Row}` | 'o_prior', string | null>>(
    'SELECT * FROM identity_decision_read($1, $2, $3, $4::text[], $5::text[], $6, $7, $8, $9, $10)',
    [
      q.sourceId,
      q.localIds[0],
      contentHash,
      locks,
      (trusted ? q.unnumbered : q.anyPerson).probes,
      trusted,
      q.trustedNhs[0] ?? '',
      personNhsRead,
      name('family'),
      name('given'),
    ],
  );
  const r = rows[0]!;
  const prior = r.o_prior === null ? undefined : (JSON.parse(r.o_prior) as Prior);
  if (r.o_candidates === null) return { prior };
  const row = {
    candidates: r.o_candidates,
    by_nhs: r.o_by_nhs!,
    nhs_records: r.o_nhs_records!,
    remembered: r.o_remembered!,
    tf: r.o_tf!,
  };
  return { prior, reads: decodeReads(row, personNhsRead) };
}

function decodeReads(row: Row, personNhsRead: boolean): DecisionReads {
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
