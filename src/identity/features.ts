/**
 * What the matcher compares, taken once from a source's Patient: normalised name parts, birth
 * date, sex, postcode, first address line, phone, and the NHS number (with whether it is valid and
 * not marked unverified by the source). Blocking keys come from the same features.
 */
import type { HumanName, Patient } from '@medplum/fhirtypes';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from './nhs-number.ts';
import {
  nameParts,
  normaliseAddressLine,
  normaliseDate,
  normalisePhone,
  normalisePostcode,
} from './normalise.ts';
import { nysiis } from './phonetic.ts';

export interface MatchFeatures {
  nhs: string | null;
  /** a valid NHS number the source has not marked as unverified: links deterministically */
  nhsTrusted: boolean;
  given: string[];
  family: string[];
  /** other family names the source knows (maiden, previous) */
  formerFamily: string[];
  birthDate: string;
  sex: string;
  postcode: string;
  address: string;
  phone: string;
}

const VERIFICATION_EXT =
  'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';
/** UK Core verification codes that mean the number was not traced or not verified. */
const UNVERIFIED_CODES = new Set(['02', '03', '04', '05', '06', '07', '08']);

function currentName(names: HumanName[]): HumanName | undefined {
  return (
    names.find((n) => n.use === 'official' && !n.period?.end) ??
    names.find((n) => n.use !== 'old' && n.use !== 'maiden' && !n.period?.end) ??
    names[0]
  );
}

export function featuresOf(p: Patient): MatchFeatures {
  const id = p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM && i.value);
  const nhs = id?.value ? normaliseNhsNumber(id.value) : null;
  const status = id?.extension
    ?.find((e) => e.url === VERIFICATION_EXT)
    ?.valueCodeableConcept?.coding?.find((c) => c.code)?.code;
  const names = p.name ?? [];
  const name = currentName(names);
  const family = nameParts(name?.family ?? name?.text?.split(' ').at(-1));
  const formerFamily = names
    .filter((n) => n !== name && n.family)
    .flatMap((n) => nameParts(n.family))
    .filter((f) => !family.includes(f));
  const address = p.address?.find((a) => a.use !== 'old' && !a.period?.end) ?? p.address?.[0];
  const phone = p.telecom?.find((t) => t.system === 'phone' && t.value)?.value;
  return {
    nhs,
    nhsTrusted: isValidNhsNumber(nhs) && !(status && UNVERIFIED_CODES.has(status)),
    given: (name?.given ?? []).flatMap((g) => nameParts(g)),
    family,
    formerFamily,
    birthDate: normaliseDate(p.birthDate),
    sex: p.gender === 'male' || p.gender === 'female' ? p.gender : '',
    postcode: normalisePostcode(address?.postalCode),
    address: normaliseAddressLine(address?.line?.[0]),
    phone: normalisePhone(phone),
  };
}

/** Day and month swapped ("1980-03-07" → "1980-07-03"), when that is a date. */
export function swappedDate(d: string): string | undefined {
  const [y, m, day] = d.split('-');
  if (!y || !m || !day || m === day || Number(day) > 12) return undefined;
  return `${y}-${day}-${m}`;
}

export interface BlockingKeys {
  dob: string | null;
  name: string | null;
  postcode: string | null;
}

/**
 * The version of the match keys (features and blocking keys) stored beside each source record.
 * Raise it when featuresOf or blockingKeys change: `backfillMatchKeys` (run at start and by
 * `sharedcare identity reindex`) recomputes every row of an older version.
 * 2: the name key holds the birth month as well as the year.
 */
export const MATCH_KEYS_VERSION = 2;

/**
 * The keys a new record is compared on: the same birth date (or the day/month swap), the same
 * surname code and birth year and month, or the same postcode. A candidate needs to share only
 * one. The name key catches a mistyped birth day; with the year alone its blocks grew to hundreds
 * of records for a common surname in a region of 1,000,000 (the bench's 100 surnames: about 320),
 * and the candidates to score with them.
 */
export function blockingKeys(f: MatchFeatures): BlockingKeys {
  const code = f.family[0] ? nysiis(f.family[0]) : '';
  return {
    dob: f.birthDate || null,
    name: code && f.birthDate ? `${code}:${f.birthDate.slice(0, 7)}` : null,
    postcode: f.postcode || null,
  };
}
