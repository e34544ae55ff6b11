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
 * 3: the birth-date and postcode keys hold the sex as well (keyProbes).
 */
export const MATCH_KEYS_VERSION = 3;

const SEX_MARK: Record<string, string> = { female: '|f', male: '|m' };
/** Every mark a key may carry: either sex, or none (unknown). */
const ANY_SEX = [...Object.values(SEX_MARK), ''];
/** A key with the record's sex; the key alone when the sex is unknown. */
const withSex = (key: string, sex: string): string => `${key}${SEX_MARK[sex] ?? ''}`;

/**
 * The keys a new record is compared on: the same birth date (or the day/month swap) and sex, the
 * same surname code and birth year and month, or the same postcode and sex. A candidate needs to
 * share only one. The name key catches a mistyped birth day; with the year alone its blocks grew
 * to hundreds of records for a common surname in a region of 1,000,000 (the bench's 100 surnames:
 * about 320), and the candidates to score with them.
 *
 * The sex halves the birth-date and postcode blocks, the largest: at 1,000,000 persons, about 56
 * and 44 records, each a page to read, most not in memory. A record of unknown sex keeps the key
 * alone, and keyProbes makes each side find the other. What the sex leaves out: a pair recorded
 * with opposite sexes that shares no key but the birth date or the postcode (a sex recorded
 * wrongly, and a changed surname, and a move or a mistyped date). With the sex against it (−4.6 in
 * config/identity-rules.json) such a pair reaches the link threshold only if the given name, the
 * first address line and the phone all agree as well. The identity bench's noise leaves the sex
 * out of 2 % of non-GP records and records the other one in 0.3 %: at 100,000 persons the same
 * 132 pairs are missed with and without the sex in the keys.
 */
export function blockingKeys(f: MatchFeatures): BlockingKeys {
  const code = f.family[0] ? nysiis(f.family[0]) : '';
  return {
    dob: f.birthDate ? withSex(f.birthDate, f.sex) : null,
    name: code && f.birthDate ? `${code}:${f.birthDate.slice(0, 7)}` : null,
    postcode: f.postcode ? withSex(f.postcode, f.sex) : null,
  };
}

export interface KeyProbes {
  /** the birth date and its day/month swap */
  dob: string[];
  postcode: string[];
}

/**
 * The birth-date and postcode keys whose records a record is compared with: each with the
 * record's own sex and with none (records of unknown sex); for a record of unknown sex, with
 * either sex. The name key has no sex in it and is probed as it is.
 */
export function keyProbes(f: MatchFeatures): KeyProbes {
  const own = SEX_MARK[f.sex];
  const marks = own !== undefined ? [own, ''] : ANY_SEX;
  const probe = (keys: (string | undefined)[]) =>
    keys.filter((k): k is string => !!k).flatMap((k) => marks.map((m) => `${k}${m}`));
  return {
    dob: probe(f.birthDate ? [f.birthDate, swappedDate(f.birthDate)] : []),
    postcode: probe([f.postcode]),
  };
}

/** Every birth-date key a record of this date may carry, whatever its sex (searches by date). */
export const dobKeysOfDate = (date: string): string[] => ANY_SEX.map((m) => `${date}${m}`);
