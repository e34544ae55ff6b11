/**
 * A batch's current links (the "priors": where each source record is now, and with what content),
 * and the advisory locks that serialise decisions which could create the same new person.
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
   WHERE l.source_id = $1 AND l.local_id`;

/**
 * One record's prior link, and its decision's locks when the record is new or changed (no prior
 * with its content hash), in one statement: one round trip fewer than reading, then locking. The
 * prior is read in the statement's snapshot, taken before any lock is waited for, as it was when
 * the read came first. The locks are taken in one order (hash), as lockBlockingKeys takes them.
 * Single values, not arrays, so that PostgreSQL keeps a generic plan (decision-reads.ts).
 */
const PRIOR_AND_LOCKS = `
WITH prior AS MATERIALIZED (${PRIORS} = $2::text)
SELECT prior.* FROM
  (SELECT count(pg_advisory_xact_lock(h)) AS locked FROM
     (SELECT DISTINCT hashtextextended(k, 19) AS h
        FROM unnest(ARRAY[$4::text, $5::text, $6::text]) AS k
       WHERE k <> '' AND NOT EXISTS (SELECT 1 FROM prior WHERE prior.content_hash = $3::text)
       ORDER BY 1) AS s) AS lk
  LEFT JOIN prior ON true`;

/**
 * The records' current links. One record's statement also takes its decision's locks (`locked`);
 * a batch's decisions lock separately (lockBlockingKeys), once the priors tell which are undecided.
 */
export async function readPriors(
  tx: Queryable,
  sourceId: string,
  patients: SourcePatient[],
  oneRecordLocks?: string[],
): Promise<{ priors: Prior[]; locked: boolean }> {
  const [one] = patients;
  if (patients.length === 1 && one && oneRecordLocks && oneRecordLocks.length <= 3) {
    const keys = [...oneRecordLocks, '', '', ''].slice(0, 3);
    const { rows } = await tx.query<Prior>(PRIOR_AND_LOCKS, [
      sourceId,
      one.localId,
      one.contentHash,
      ...keys,
    ]);
    return { priors: rows.filter((r) => r.local_id !== null), locked: true };
  }
  const { rows } = await tx.query<Prior>(`${PRIORS} = ANY($2::text[])`, [
    sourceId,
    patients.map((p) => p.localId),
  ]);
  return { priors: rows, locked: false };
}
