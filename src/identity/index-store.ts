/**
 * The index's SQL besides the decisions' reads (decision-reads.ts): locks, and the writes of
 * persons, links and review pairs. Each is one statement for a whole batch.
 */
import type { Patient } from '@medplum/fhirtypes';
import { lockKeysForTransaction, type Queryable } from '../db/index.ts';
import type { PersonScore } from './decide.ts';
import { recordKey } from './decide.ts';
import { MATCH_KEYS_VERSION, type BlockingKeys, type MatchFeatures } from './features.ts';

/**
 * Serialises decisions that could create the same new person: two arrivals sharing a birth date
 * or an NHS number wait for each other (transaction-scoped advisory locks, taken in one order so
 * that two batches never deadlock). Nothing else waits.
 */
export async function lockBlockingKeys(tx: Queryable, keys: string[]): Promise<void> {
  await lockKeysForTransaction(tx, 19, keys);
}

export interface LinkRow {
  localId: string;
  personId: string;
  nhs: string | null;
  reason: string;
  hash: string;
  /** the source's Patient, stored as JSON.stringify writes it */
  patient: Patient;
  features: MatchFeatures;
  keys: BlockingKeys;
  weight: number | null;
  mergedFrom: string | null;
}

/**
 * The batch's new persons and its links, in one statement (the persons are inserted by a
 * data-modifying WITH; the links' foreign key is checked at the end of the statement, after both).
 *
 * The links travel as one JSON array of rows, not as a text array per column: the driver escapes
 * every element of a text array (two regular-expression replaces over each Patient's and each
 * feature set's JSON, a tenth of what a decision allocated), where one JSON.stringify writes them
 * once. json_to_recordset reads each row once, and a `json` column keeps its input's text, so
 * `d` is exactly the Patient's JSON as JSON.stringify wrote it.
 */
export async function upsertLinks(
  tx: Queryable,
  sourceId: string,
  rows: LinkRow[],
  persons: { id: string; nhs: string | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `WITH new_person AS (
       INSERT INTO person (id, nhs_number, verified)
       SELECT i, n, n IS NOT NULL FROM unnest($3::uuid[], $4::text[]) AS t(i, n))
     INSERT INTO person_link (source_id, local_id, person_id, nhs_number, link_reason, content_hash, demographics,
                              updated_at, features, block_dob, block_keys, match_weight, merged_from,
                              keys_version)
     SELECT $1, r.l, r.p, r.n, r.r, r.h, r.d::text, now(), r.f::text, r.bd,
            ARRAY(SELECT json_array_elements_text(r.bk)), r.w, r.mf, $5::smallint
       FROM json_to_recordset($2::json) AS r(l text, p uuid, n text, r text, h text, d json, f json, bd text,
                                              bk json, w float8, mf uuid)
     ON CONFLICT (source_id, local_id) DO UPDATE SET person_id = EXCLUDED.person_id, nhs_number = EXCLUDED.nhs_number,
       link_reason = EXCLUDED.link_reason, content_hash = EXCLUDED.content_hash, demographics = EXCLUDED.demographics,
       updated_at = now(), features = EXCLUDED.features, block_dob = EXCLUDED.block_dob,
       block_keys = EXCLUDED.block_keys,
       match_weight = EXCLUDED.match_weight, merged_from = EXCLUDED.merged_from,
       keys_version = EXCLUDED.keys_version`,
    [
      sourceId,
      JSON.stringify(
        rows.map((r) => ({
          l: r.localId,
          p: r.personId,
          n: r.nhs,
          r: r.reason,
          h: r.hash,
          d: r.patient,
          f: r.features,
          bd: r.keys.dob,
          bk: r.keys.block,
          w: r.weight,
          mf: r.mergedFrom,
        })),
      ),
      persons.map((p) => p.id),
      persons.map((p) => p.nhs),
      MATCH_KEYS_VERSION,
    ],
  );
}

/** A person found by demographics takes the trusted NHS number that the new record brings. */
export async function claimNhsNumbers(tx: Queryable, claims: { id: string; nhs: string }[]): Promise<void> {
  if (claims.length === 0) return;
  await tx.query(
    `UPDATE person SET nhs_number = t.n, verified = true
       FROM unnest($1::uuid[], $2::text[]) AS t(i, n) WHERE person.id = t.i AND person.nhs_number IS NULL`,
    [claims.map((c) => c.id), claims.map((c) => c.nhs)],
  );
}

export async function queueReviews(
  tx: Queryable,
  sourceId: string,
  pairs: { localId: string; candidate: PersonScore; id: string }[],
): Promise<void> {
  if (pairs.length === 0) return;
  await tx.query(
    `INSERT INTO identity_review (id, source_id, local_id, candidate_source_id, candidate_local_id, weight, levels, status, created_at)
     SELECT i, $1, l, cs, cl, w, lv, 'open', now()
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[]) AS t(i, l, cs, cl, w, lv)
     ON CONFLICT (source_id, local_id, candidate_source_id, candidate_local_id)
       DO UPDATE SET weight = EXCLUDED.weight, levels = EXCLUDED.levels WHERE identity_review.status = 'open'`,
    [
      sourceId,
      pairs.map((p) => p.id),
      pairs.map((p) => p.localId),
      pairs.map((p) => p.candidate.best.sourceId),
      pairs.map((p) => p.candidate.best.localId),
      pairs.map((p) => p.candidate.score.weight),
      pairs.map((p) => JSON.stringify(p.candidate.score.levels)),
    ],
  );
}

export { recordKey };
