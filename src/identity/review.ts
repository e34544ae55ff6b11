/**
 * The review queue: pairs of source records scored between the thresholds. An administrator sees
 * the two side by side and links them (the incoming record's person joins the candidate's) or
 * keeps them apart; either way the decision is remembered and the matcher abides by it.
 */
import type { Patient } from '@medplum/fhirtypes';
import { readOne, type Fragment, type Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { rememberDecisions, type ItemMover, type RecordMove, type SourceRecordRef } from './relink.ts';

export interface ReviewSide extends SourceRecordRef {
  personId: string | null;
  nhsNumber: string | null;
  name: string;
  birthDate: string | null;
  gender: string | null;
  address: string;
}

export interface ReviewPair {
  id: string;
  weight: number;
  levels: { field: string; level: string | null; weight: number }[];
  createdAt: string;
  record: ReviewSide;
  candidate: ReviewSide;
}

function side(
  sourceId: string,
  localId: string,
  personId: string | null,
  demographics: string | null,
): ReviewSide {
  const p = (demographics ? JSON.parse(demographics) : {}) as Patient;
  const n = p.name?.[0];
  const a = p.address?.[0];
  return {
    sourceId,
    localId,
    personId,
    nhsNumber: p.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value ?? null,
    name: [n?.given?.join(' '), n?.family].filter(Boolean).join(' '),
    birthDate: p.birthDate ?? null,
    gender: p.gender ?? null,
    address: [...(a?.line ?? []), a?.city, a?.postalCode].filter(Boolean).join(', '),
  };
}

interface ReviewRow {
  id: string;
  weight: number;
  levels: string;
  created_at: string;
  source_id: string;
  local_id: string;
  candidate_source_id: string;
  candidate_local_id: string;
  a_person: string | null;
  a_demo: string | null;
  b_person: string | null;
  b_demo: string | null;
}

const SELECT_REVIEW = `SELECT r.id, r.weight, r.levels, r.created_at::text AS created_at, r.source_id, r.local_id,
    r.candidate_source_id, r.candidate_local_id, a.person_id AS a_person, a.demographics AS a_demo,
    b.person_id AS b_person, b.demographics AS b_demo
  FROM identity_review r
  LEFT JOIN person_link a ON a.source_id = r.source_id AND a.local_id = r.local_id
  LEFT JOIN person_link b ON b.source_id = r.candidate_source_id AND b.local_id = r.candidate_local_id`;

const toPair = (r: ReviewRow): ReviewPair => ({
  id: r.id,
  weight: Number(r.weight),
  levels: JSON.parse(r.levels) as ReviewPair['levels'],
  createdAt: new Date(r.created_at).toISOString(),
  record: side(r.source_id, r.local_id, r.a_person, r.a_demo),
  candidate: side(r.candidate_source_id, r.candidate_local_id, r.b_person, r.b_demo),
});

/** Open pairs, oldest first; pairs whose two records are already on one person are left out. */
export async function listOpenReviews(q: Queryable, limit = 50): Promise<ReviewPair[]> {
  const { rows } = await q.query<ReviewRow>(
    `${SELECT_REVIEW} WHERE r.status = 'open' AND a.person_id IS DISTINCT FROM b.person_id
     ORDER BY r.created_at, r.id LIMIT $1`,
    [limit],
  );
  return rows.map(toPair);
}

/** How many open pairs name one of this person's source records as the candidate (a fragment). */
export const pendingReviewsFragment: Fragment<number> = {
  sql: () => `SELECT to_json(count(*)::int) FROM identity_review r
       JOIN person_link b ON b.source_id = r.candidate_source_id AND b.local_id = r.candidate_local_id
       JOIN person_link a ON a.source_id = r.source_id AND a.local_id = r.local_id
      WHERE r.status = 'open' AND b.person_id = $1 AND a.person_id <> $1`,
  decode: (v) => (v as number | null) ?? 0,
};

/** How many open pairs name one of this person's source records as the candidate. */
export async function pendingReviewsFor(q: Queryable, personId: string): Promise<number> {
  return readOne(q, personId, pendingReviewsFragment);
}

export interface ReviewOutcome {
  pair: ReviewPair;
  decision: 'link' | 'apart';
  moves: RecordMove[];
}

/**
 * Decides an open pair. Linking moves every source record of the incoming record's person (and
 * their items) to the candidate's person; two persons with different NHS numbers are refused.
 */
export async function decideReview(
  tx: Queryable,
  id: string,
  decision: 'link' | 'apart',
  decidedBy: { id: string; org: string },
  at: Date,
  moveItems: ItemMover,
): Promise<ReviewOutcome> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new SharedcareError('not-found', 'no such review');
  const row = (await tx.query<ReviewRow>(`${SELECT_REVIEW} WHERE r.id = $1 FOR UPDATE OF r`, [id])).rows[0];
  if (!row) throw new SharedcareError('not-found', 'no such review');
  const pair = toPair(row);
  if (row.a_person === null || row.b_person === null)
    throw new SharedcareError('conflict', 'one of the two source records is no longer held');
  const moves = decision === 'link' ? await mergePersons(tx, row.a_person, row.b_person, moveItems) : [];
  await rememberDecisions(tx, [[pair.record, pair.candidate]], decision, decidedBy.id, at);
  await tx.query(
    `UPDATE identity_review SET status = $2, decided_by = $3, decided_org = $4, decided_at = $5 WHERE id = $1`,
    [id, decision === 'link' ? 'linked' : 'apart', decidedBy.id, decidedBy.org, at.toISOString()],
  );
  return { pair, decision, moves };
}

async function mergePersons(
  tx: Queryable,
  from: string,
  into: string,
  moveItems: ItemMover,
): Promise<RecordMove[]> {
  if (from === into) return [];
  const { rows: persons } = await tx.query<{ id: string; nhs_number: string | null }>(
    'SELECT id, nhs_number FROM person WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
    [[from, into]],
  );
  const nhsFrom = persons.find((p) => p.id === from)?.nhs_number ?? null;
  const nhsInto = persons.find((p) => p.id === into)?.nhs_number ?? null;
  if (nhsFrom && nhsInto && nhsFrom !== nhsInto)
    throw new SharedcareError('conflict', 'the two records belong to people with different NHS numbers');
  if (nhsFrom && !nhsInto) {
    await tx.query('UPDATE person SET nhs_number = NULL WHERE id = $1', [from]);
    await tx.query('UPDATE person SET nhs_number = $2, verified = true WHERE id = $1', [into, nhsFrom]);
  }
  const { rows } = await tx.query<{ source_id: string; local_id: string }>(
    `UPDATE person_link SET person_id = $2, link_reason = 'review-link', updated_at = now()
      WHERE person_id = $1 RETURNING source_id, local_id`,
    [from, into],
  );
  const moves: RecordMove[] = [];
  for (const r of rows) {
    await moveItems(tx, r.source_id, r.local_id, from, into);
    moves.push({ sourceId: r.source_id, localId: r.local_id, fromPersonId: from, toPersonId: into });
  }
  return moves;
}
