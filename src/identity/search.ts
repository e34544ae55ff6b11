/**
 * Finding persons by demographics, the IHE PDQm shapes: family (and given) name with birth date, or
 * birth date with postcode. Always through the indexed birth date (`block_dob`), then the
 * source records' normalised features compared as FHIR string search does: each name part the
 * searcher gives must begin a name part the record holds, case and accents ignored. A person whose
 * address is restricted is not found by postcode.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { featuresOf, type MatchFeatures } from './features.ts';
import { nameParts, normaliseDate, normalisePostcode } from './normalise.ts';
import { isRestricted, type Person } from './person.ts';

export interface DemographicQuery {
  /** YYYY-MM-DD */
  birthDate: string;
  family?: string;
  given?: string;
  postcode?: string;
}

export interface DemographicMatch {
  person: Person;
  /** the source records (source ids) whose details matched */
  sourceIds: string[];
}

const startsAny = (wanted: string[], held: string[]) =>
  wanted.every((w) => held.some((h) => h.startsWith(w)));

function matches(f: MatchFeatures, q: DemographicQuery): boolean {
  if (q.family !== undefined && !startsAny(nameParts(q.family), [...f.family, ...f.formerFamily]))
    return false;
  if (q.given !== undefined && !startsAny(nameParts(q.given), f.given)) return false;
  if (q.postcode !== undefined) {
    const want = normalisePostcode(q.postcode).replace(' ', '');
    if (!want || !f.postcode.replace(' ', '').startsWith(want)) return false;
  }
  return true;
}

export async function findPersonsByDemographics(
  q: Queryable,
  query: DemographicQuery,
): Promise<DemographicMatch[]> {
  const dob = normaliseDate(query.birthDate);
  if (!dob) return [];
  const { rows } = await q.query<{
    person_id: string;
    nhs_number: string | null;
    verified: boolean;
    source_id: string;
    features: string | null;
    demographics: string;
  }>(
    `SELECT l.person_id, p.nhs_number, p.verified, l.source_id, l.features, l.demographics
     FROM person_link l JOIN person p ON p.id = l.person_id WHERE l.block_dob = $1`,
    [dob],
  );
  const found = new Map<string, DemographicMatch>();
  for (const r of rows) {
    const f = r.features
      ? (JSON.parse(r.features) as MatchFeatures)
      : featuresOf(JSON.parse(r.demographics) as Patient);
    if (!matches(f, query)) continue;
    const hit = found.get(r.person_id) ?? {
      person: { id: r.person_id, nhsNumber: r.nhs_number, verified: r.verified },
      sourceIds: [],
    };
    hit.sourceIds.push(r.source_id);
    found.set(r.person_id, hit);
  }
  if (query.postcode !== undefined && found.size > 0) await dropRestricted(q, found);
  return [...found.values()].sort((a, b) => a.person.id.localeCompare(b.person.id));
}

/**
 * A person whose address is restricted (any of their records says so: isRestricted) is never found
 * by postcode: finding them would confirm the address that is hidden from every reader.
 */
async function dropRestricted(q: Queryable, found: Map<string, DemographicMatch>): Promise<void> {
  const { rows } = await q.query<{ person_id: string; demographics: string }>(
    `SELECT person_id, demographics FROM person_link WHERE person_id = ANY($1::uuid[])`,
    [[...found.keys()]],
  );
  for (const r of rows) if (isRestricted(JSON.parse(r.demographics) as Patient)) found.delete(r.person_id);
}

/** A source record sought by an identifier it carries, with what finds its person through an index. */
export interface RecordByIdentifier {
  system: string;
  value: string;
  nhsNumber?: string;
  birthDate?: string;
}

/**
 * This source's record (local id) carrying each identifier, by "system|value": for a Patient sent
 * again under a fresh id with the identifier it was sent with before (a conditional create). It is
 * found through the person its NHS number names or its birth date (both indexed), never by reading
 * the source's every record. A record is taken only if it is the same person by what is firmest:
 * the same NHS number where the one sought has one, else none and the same birth date; and only
 * if exactly one record is so (two records of the source sharing an identifier say nothing).
 */
export async function sourceRecordsByIdentifier(
  q: Queryable,
  sourceId: string,
  wanted: RecordByIdentifier[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const dobs = wanted.map((w) => normaliseDate(w.birthDate)).filter(Boolean);
  const nhs = wanted.flatMap((w) => (w.nhsNumber ? [w.nhsNumber] : []));
  if (wanted.length === 0 || (dobs.length === 0 && nhs.length === 0)) return found;
  const { rows } = await q.query<{
    local_id: string;
    nhs_number: string | null;
    block_dob: string | null;
    demographics: string;
  }>(
    `SELECT l.local_id, l.nhs_number, l.block_dob, l.demographics FROM person_link l
      WHERE l.source_id = $1
        AND (l.block_dob = ANY($2::text[])
             OR l.person_id IN (SELECT p.id FROM person p WHERE p.nhs_number = ANY($3::text[])))
        AND EXISTS (SELECT 1 FROM unnest($4::text[]) v WHERE strpos(l.demographics, v) > 0)`,
    [sourceId, dobs, nhs, wanted.map((w) => JSON.stringify(w.value))],
  );
  const carrying = new Map<string, typeof rows>();
  for (const r of rows)
    for (const i of (JSON.parse(r.demographics) as Patient).identifier ?? []) {
      const key = `${i?.system ?? ''}|${i?.value ?? ''}`;
      carrying.set(key, [...(carrying.get(key) ?? []), r]);
    }
  for (const w of wanted) {
    const key = `${w.system}|${w.value}`;
    const records = carrying.get(key) ?? [];
    const dob = normaliseDate(w.birthDate);
    const same = records.filter((r) =>
      w.nhsNumber ? r.nhs_number === w.nhsNumber : !r.nhs_number && !!dob && r.block_dob === dob,
    );
    if (new Set(records.map((r) => r.local_id)).size === 1 && same.length > 0)
      found.set(key, same[0]!.local_id);
  }
  return found;
}
