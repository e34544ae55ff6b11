/**
 * A batch's current links (the "priors": where each source record is now, and with what content),
 * and the keys of the advisory locks that serialise decisions which could create the same new person.
 */
import type { Queryable } from '../db/index.ts';
import { swappedDate, type MatchFeatures } from './features.ts';
import type { SourcePatient } from './link.ts';

export interface Prior {
  local_id: string;
  person_id: string;
  content_hash: string;
  nhs_number: string | null;
  link_reason: string;
  person_nhs: string | null;
  merged_from: string | null;
}

/** The keys a decision locks: its trusted NHS number, and its birth date (both ways) or postcode. */
export function lockKeys(f: MatchFeatures): string[] {
  const keys: string[] = [];
  if (f.nhsTrusted) keys.push(`nhs:${f.nhs}`);
  if (f.birthDate) keys.push(`dob:${f.birthDate}`, `dob:${swappedDate(f.birthDate) ?? f.birthDate}`);
  else if (f.postcode) keys.push(`pc:${f.postcode}`);
  return keys;
}

const PRIORS = `SELECT l.local_id, l.person_id, l.content_hash, l.nhs_number, l.link_reason,
         p.nhs_number AS person_nhs, l.merged_from
    FROM person_link l JOIN person p ON p.id = l.person_id
   WHERE l.source_id = $1 AND l.local_id = ANY($2::text[])`;

/**
 * The records' current links. One record's is read with its decision's reads instead
 * (decision-reads.ts readOneRecord: one round trip for the prior, the locks and the reads).
 */
export async function readPriors(
  tx: Queryable,
  sourceId: string,
  patients: SourcePatient[],
): Promise<Prior[]> {
  const { rows } = await tx.query<Prior>(PRIORS, [sourceId, patients.map((p) => p.localId)]);
  return rows;
}
