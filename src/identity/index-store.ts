/**
 * The index's SQL: candidates by blocking key, remembered decisions, name frequencies, locks, and
 * the writes of persons, links and review pairs. Every read is one indexed query for a whole batch.
 */
import type { Queryable } from '../db/index.ts';
import type { CandidateRecord, PersonScore, Remembered } from './decide.ts';
import { recordKey } from './decide.ts';
import type { BlockingKeys, MatchFeatures } from './features.ts';

/**
 * Serialises decisions that could create the same new person: two arrivals sharing a birth date
 * or an NHS number wait for each other (transaction-scoped advisory locks, taken in one order so
 * that two batches never deadlock). Nothing else waits.
 */
export async function lockBlockingKeys(tx: Queryable, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(h)) FROM
       (SELECT DISTINCT hashtextextended(k, 19) AS h FROM unnest($1::text[]) AS k ORDER BY 1) AS s`,
    [keys],
  );
}

interface CandidateRow {
  source_id: string;
  local_id: string;
  person_id: string;
  person_nhs: string | null;
  features: string | null;
}

export async function findCandidates(
  tx: Queryable,
  keys: BlockingKeys[],
  extraDobs: string[],
): Promise<CandidateRecord[]> {
  const dobs = [...new Set([...keys.map((k) => k.dob), ...extraDobs].filter((x): x is string => !!x))];
  const names = [...new Set(keys.map((k) => k.name).filter((x): x is string => !!x))];
  const postcodes = [...new Set(keys.map((k) => k.postcode).filter((x): x is string => !!x))];
  if (dobs.length + names.length + postcodes.length === 0) return [];
  const { rows } = await tx.query<CandidateRow>(
    `SELECT l.source_id, l.local_id, l.person_id, p.nhs_number AS person_nhs, l.features
       FROM person_link l JOIN person p ON p.id = l.person_id
      WHERE l.block_dob = ANY($1::text[]) OR l.block_name = ANY($2::text[]) OR l.block_postcode = ANY($3::text[])`,
    [dobs, names, postcodes],
  );
  return rows
    .filter((r) => r.features)
    .map((r) => ({
      sourceId: r.source_id,
      localId: r.local_id,
      personId: r.person_id,
      personNhs: r.person_nhs,
      features: JSON.parse(r.features!) as MatchFeatures,
    }));
}

/** Every record of these persons (those an incoming NHS number names), as candidates. */
export async function recordsOfPersons(tx: Queryable, personIds: string[]): Promise<CandidateRecord[]> {
  if (personIds.length === 0) return [];
  const { rows } = await tx.query<CandidateRow>(
    `SELECT l.source_id, l.local_id, l.person_id, p.nhs_number AS person_nhs, l.features
       FROM person_link l JOIN person p ON p.id = l.person_id
      WHERE l.person_id = ANY($1::uuid[])`,
    [personIds],
  );
  return rows
    .filter((r) => r.features)
    .map((r) => ({
      sourceId: r.source_id,
      localId: r.local_id,
      personId: r.person_id,
      personNhs: r.person_nhs,
      features: JSON.parse(r.features!) as MatchFeatures,
    }));
}

/** Remembered decisions for these records of one source, by local id. */
export async function rememberedDecisions(
  tx: Queryable,
  sourceId: string,
  localIds: string[],
): Promise<Map<string, Remembered>> {
  const out = new Map<string, Remembered>();
  if (localIds.length === 0) return out;
  const { rows } = await tx.query<{
    local_id: string;
    other: string;
    decision: string;
    person: string | null;
  }>(
    `SELECT d.local_id, d.other_source_id || '|' || d.other_local_id AS other, d.decision, l.person_id AS person
       FROM identity_decision d
       LEFT JOIN person_link l ON l.source_id = d.other_source_id AND l.local_id = d.other_local_id
      WHERE d.source_id = $1 AND d.local_id = ANY($2::text[])`,
    [sourceId, localIds],
  );
  for (const r of rows) {
    const m = out.get(r.local_id) ?? { link: new Set<string>(), apart: new Set<string>() };
    if (r.decision === 'apart') m.apart.add(r.other);
    else if (r.person) m.link.add(r.person);
    out.set(r.local_id, m);
  }
  return out;
}

/** The share of source records with each of these names (only names the trainer counted). */
export async function termFrequencies(
  tx: Queryable,
  values: { field: string; value: string }[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (values.length === 0) return out;
  const { rows } = await tx.query<{ field: string; value: string; share: number }>(
    `SELECT t.field, t.value, t.share FROM identity_term_frequency t
       JOIN unnest($1::text[], $2::text[]) AS w(f, v) ON t.field = w.f AND t.value = w.v`,
    [values.map((v) => v.field), values.map((v) => v.value)],
  );
  for (const r of rows) out.set(`${r.field}|${r.value}`, Number(r.share));
  return out;
}

export interface LinkRow {
  localId: string;
  personId: string;
  nhs: string | null;
  reason: string;
  hash: string;
  body: string;
  features: MatchFeatures;
  keys: BlockingKeys;
  weight: number | null;
  mergedFrom: string | null;
}

export async function upsertLinks(tx: Queryable, sourceId: string, rows: LinkRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO person_link (source_id, local_id, person_id, nhs_number, link_reason, content_hash, demographics,
                              updated_at, features, block_dob, block_name, block_postcode, match_weight, merged_from)
     SELECT $1, l, p, n, r, h, d, now(), f, bd, bn, bp, w, mf
       FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::text[], $11::text[], $12::float8[], $13::uuid[]) AS t(l, p, n, r, h, d, f, bd, bn, bp, w, mf)
     ON CONFLICT (source_id, local_id) DO UPDATE SET person_id = EXCLUDED.person_id, nhs_number = EXCLUDED.nhs_number,
       link_reason = EXCLUDED.link_reason, content_hash = EXCLUDED.content_hash, demographics = EXCLUDED.demographics,
       updated_at = now(), features = EXCLUDED.features, block_dob = EXCLUDED.block_dob,
       block_name = EXCLUDED.block_name, block_postcode = EXCLUDED.block_postcode,
       match_weight = EXCLUDED.match_weight, merged_from = EXCLUDED.merged_from`,
    [
      sourceId,
      rows.map((r) => r.localId),
      rows.map((r) => r.personId),
      rows.map((r) => r.nhs),
      rows.map((r) => r.reason),
      rows.map((r) => r.hash),
      rows.map((r) => r.body),
      rows.map((r) => JSON.stringify(r.features)),
      rows.map((r) => r.keys.dob),
      rows.map((r) => r.keys.name),
      rows.map((r) => r.keys.postcode),
      rows.map((r) => r.weight),
      rows.map((r) => r.mergedFrom),
    ],
  );
}

export async function insertPersons(
  tx: Queryable,
  persons: { id: string; nhs: string | null }[],
): Promise<void> {
  if (persons.length === 0) return;
  await tx.query(
    `INSERT INTO person (id, nhs_number, verified)
     SELECT i, n, n IS NOT NULL FROM unnest($1::uuid[], $2::text[]) AS t(i, n)`,
    [persons.map((p) => p.id), persons.map((p) => p.nhs)],
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
