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
import { nameRoots } from './nicknames.ts';
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
  /** the birth date alone: searches by birth date start from it (too wide a block to match on) */
  dob: string | null;
  /** the keys a record is found by when another is matched (blockingKeys) */
  block: string[];
}

/**
 * The version of the match keys (features and blocking keys) stored beside each source record.
 * Raise it when featuresOf or blockingKeys change: `backfillMatchKeys` (run at start and by
 * `sharedcare identity reindex`) recomputes every row of an older version.
 * 2: the name key holds the birth month as well as the year.
 * 3: the birth-date and postcode keys hold the sex as well.
 * 4: every key pairs two fields (blockingKeys), in one array column with a GIN index.
 */
export const MATCH_KEYS_VERSION = 4;

/**
 * Surname codes: every part of the current surname (double-barrelled: both), and of the former
 * ones the source knows (a married name's record meets a record under the maiden name both ways).
 */
const familyCodes = (f: MatchFeatures): string[] => distinct([...f.family, ...f.formerFamily].map(nysiis));

/** First-name codes: of the formal names it is a form of ("bill": william), so nicknames meet. */
const givenCodes = (f: MatchFeatures): string[] =>
  f.given[0] ? distinct(nameRoots(f.given[0]).map(nysiis)) : [];

const distinct = (xs: string[]): string[] => [...new Set(xs.filter((x) => x))];
const pairs = (kind: string, as: string[], bs: string[]): string[] =>
  as.flatMap((a) => bs.map((b) => `${kind}:${a}:${b}`));

interface KeyFields {
  dates: string[];
  family: string[];
  given: string[];
  postcode: string[];
  years: string[];
}

/**
 * The blocking keys of a record: each pairs two fields, and a candidate must share one. Birth date
 * with surname code (`df`), birth date with first-name code (`dg`), birth date with postcode
 * (`dp`), postcode with first-name code (`pg`), and surname and first-name codes with the birth
 * year (`fg:year`). Any one field can be wrong, missing or changed and a key remains: a new surname
 * (marriage) leaves dg, dp and pg; a house move df, dg and fg; a mistyped birth day pg and fg; a
 * nickname (through its formal name) or a mistyped first name df and dp. Most pairs with two such
 * changes keep one too (a married name and a move: dg).
 *
 * Each key is narrow where the wide keys of version 3 (birth date and sex; postcode and sex) were
 * not: at 1,000,000 persons those blocks held about 28 and 22 records each, a decision read ~83
 * candidate records (each a heap page, most not in memory) and scored them, and that set the p99.
 * A block of two fields holds a person's own records and one or two others.
 */
function keysOf(k: KeyFields): string[] {
  return distinct([
    ...pairs('df', k.dates, k.family),
    ...pairs('dg', k.dates, k.given),
    ...pairs('dp', k.dates, k.postcode),
    ...pairs('pg', k.postcode, k.given),
    ...k.years.flatMap((y) => pairs(`fg:${y}`, k.family, k.given)),
  ]);
}

export function blockingKeys(f: MatchFeatures): BlockingKeys {
  return {
    dob: f.birthDate || null,
    block: keysOf({
      dates: f.birthDate ? [f.birthDate] : [],
      family: familyCodes(f),
      given: givenCodes(f),
      postcode: f.postcode ? [f.postcode] : [],
      years: f.birthDate ? [f.birthDate.slice(0, 4)] : [],
    }),
  };
}

/**
 * The keys whose records a record is compared with: its own, and those it would have with the
 * birth day and month swapped, or with its names the other way round
 * (a first name recorded as the surname, and the surname as the first name).
 */
export function keyProbes(f: MatchFeatures): string[] {
  const swapped = f.birthDate ? swappedDate(f.birthDate) : undefined;
  const family = familyCodes(f);
  const given = givenCodes(f);
  const dates = distinct([f.birthDate, swapped ?? '']);
  const years = f.birthDate ? [f.birthDate.slice(0, 4)] : [];
  const postcode = f.postcode ? [f.postcode] : [];
  // names the other way round: the keys of both names (df, fg); the others hold one name
  const asFamily = f.given[0] ? [nysiis(f.given[0])] : [];
  const asGiven = f.family[0] ? [nysiis(f.family[0])] : [];
  const reversed = keysOf({ dates, family: asFamily, given: asGiven, postcode: [], years }).filter(
    (k) => k.startsWith('df:') || k.startsWith('fg:'),
  );
  return distinct([...keysOf({ dates, family, given, postcode, years }), ...reversed]);
}
