/**
 * A person's true identity and the imperfect copies of it that each source system holds. The noise
 * (nicknames, typos, changed surnames, swapped day/month, old addresses, missing or wrong NHS numbers)
 * is what the demographic matching engine has to see through.
 */
import type { Address, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../identity/index.ts';
import { DAY_MS, YEAR_MS, formatDate, referenceOrg, type SourceContext } from './fhir-build.ts';
import {
  FAMILY_NAMES,
  FEMALE_GIVEN,
  MALE_GIVEN,
  MIDDLE_GIVEN,
  NICKNAMES,
  PHONE_PREFIXES,
  POSTCODE_LETTERS,
  STREET_NAMES,
  STREET_SUFFIXES,
  TOWNS,
} from './names.ts';
import { corruptNhsNumber, deriveNhsNumber } from './nhs-numbers.ts';
import type { Rng } from './random.ts';
import type { RegionOrganisation } from './region-spec.ts';

export interface PostalAddress {
  line: string[];
  city: string;
  postalCode: string;
}

export interface TrueIdentity {
  nhsNumber: string;
  given: string[];
  family: string;
  /** Surname before marriage, when there is one. */
  formerFamily?: string;
  sex: 'male' | 'female';
  birthMs: number;
  birthDate: string;
  address: PostalAddress;
  previousAddress: PostalAddress;
  phone: string;
}

/** What one source system recorded. */
export interface SourceIdentity {
  nhsNumber?: string;
  given: string[];
  family: string;
  birthDate: string;
  address: PostalAddress;
  phone: string;
}

export interface IdentityNoise {
  /** Chance that this source has no NHS number for the person. */
  omitNhsNumber: number;
}

const AGE_BANDS: readonly (readonly [readonly [number, number], number])[] = [
  [[0, 17], 20],
  [[18, 39], 28],
  [[40, 64], 32],
  [[65, 79], 14],
  [[80, 99], 6],
];

const LETTERS = [...POSTCODE_LETTERS];

function drawAddress(rng: Rng): PostalAddress {
  const [city, districts] = rng.pick(TOWNS);
  const letters = (): string => rng.pick(LETTERS);
  const postalCode = `ND${rng.pick(districts)} ${rng.int(1, 9)}${letters()}${letters()}`;
  const street = `${rng.int(1, 180)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_SUFFIXES)}`;
  return { line: [street], city, postalCode };
}

export function drawIdentity(rng: Rng, index: number, seed: number, now: number): TrueIdentity {
  const sex = rng.chance(0.5) ? 'female' : 'male';
  const [minAge, maxAge] = rng.weighted(AGE_BANDS);
  const birthMs = Math.floor((now - rng.between(minAge, maxAge + 1) * YEAR_MS) / DAY_MS) * DAY_MS;
  const given = [rng.pick(sex === 'female' ? FEMALE_GIVEN : MALE_GIVEN)];
  if (rng.chance(0.35)) given.push(rng.pick(MIDDLE_GIVEN));
  const family = rng.pick(FAMILY_NAMES);
  const ageYears = (now - birthMs) / YEAR_MS;
  const formerFamily =
    sex === 'female' && ageYears > 25 && rng.chance(0.35) ? rng.pick(FAMILY_NAMES) : undefined;
  const phone = `${rng.pick(PHONE_PREFIXES)}${String(rng.int(0, 999)).padStart(3, '0')}`;
  return {
    nhsNumber: deriveNhsNumber(index, seed),
    given,
    family,
    formerFamily: formerFamily === family ? undefined : formerFamily,
    sex,
    birthMs,
    birthDate: formatDate(birthMs),
    address: drawAddress(rng),
    previousAddress: drawAddress(rng),
    phone,
  };
}

function addTypo(rng: Rng, name: string): string {
  if (name.length < 4) return name + name.slice(-1);
  const i = rng.int(1, name.length - 2);
  switch (rng.int(0, 2)) {
    case 0:
      return name.slice(0, i) + (name[i + 1] ?? '') + (name[i] ?? '') + name.slice(i + 2);
    case 1:
      return name.slice(0, i) + name.slice(i + 1);
    default:
      return name.slice(0, i) + (name[i] ?? '') + name.slice(i);
  }
}

function swapDayMonth(date: string): string {
  const [y, m, d] = date.split('-');
  if (!y || !m || !d || Number(d) > 12 || d === m) return date;
  return `${y}-${d}-${m}`;
}

/** The identity as a non-GP source recorded it, with occasional realistic errors. */
export function distortIdentity(rng: Rng, truth: TrueIdentity, noise: IdentityNoise): SourceIdentity {
  const given = [...truth.given];
  const first = given[0] ?? '';
  const nick = NICKNAMES.get(first);
  if (nick && rng.chance(0.05)) given[0] = rng.pick(nick);
  else if (rng.chance(0.02)) given[0] = addTypo(rng, first);
  if (given.length > 1 && rng.chance(0.3)) given.length = 1;

  let family = truth.family;
  if (truth.formerFamily && rng.chance(0.06)) family = truth.formerFamily;
  else if (rng.chance(0.02)) family = `${truth.family}-${rng.pick(FAMILY_NAMES)}`;
  else if (rng.chance(0.015)) family = addTypo(rng, family);

  const birthDate = rng.chance(0.02) ? swapDayMonth(truth.birthDate) : truth.birthDate;
  const address = rng.chance(0.05) ? truth.previousAddress : truth.address;

  let nhsNumber: string | undefined = truth.nhsNumber;
  if (rng.chance(noise.omitNhsNumber)) nhsNumber = undefined;
  else if (rng.chance(0.01)) nhsNumber = corruptNhsNumber(rng, truth.nhsNumber);
  return { nhsNumber, given, family, birthDate, address, phone: truth.phone };
}

export function copyTrueIdentity(truth: TrueIdentity): SourceIdentity {
  return { ...truth, given: [...truth.given] };
}

export function makeLocalIdentifierSystem(sourceId: string): string {
  return `https://fhir.${sourceId}.example.nhs.uk/Id/local-patient-id`;
}

export function buildPatient(
  ctx: SourceContext,
  who: SourceIdentity,
  sex: 'male' | 'female',
  registeredAt: number,
  gp: RegionOrganisation | undefined,
): Patient {
  const identifier: Identifier[] = [];
  if (who.nhsNumber) identifier.push({ system: NHS_NUMBER_SYSTEM, value: who.nhsNumber });
  identifier.push({ system: makeLocalIdentifierSystem(ctx.source.id), value: ctx.patientId });
  const name: HumanName = { use: 'official', family: who.family, given: who.given };
  const address: Address = { use: 'home', ...who.address, line: [...who.address.line], country: 'GB' };
  const mobile = who.phone.startsWith('07');
  const patient: Patient = {
    resourceType: 'Patient',
    id: ctx.patientId,
    meta: ctx.meta(registeredAt),
    identifier,
    active: true,
    name: [name],
    telecom: [{ system: 'phone', value: who.phone, use: mobile ? 'mobile' : 'home' }],
    gender: sex,
    birthDate: who.birthDate,
    address: [address],
    managingOrganization: referenceOrg(ctx.org),
  };
  if (gp) patient.generalPractitioner = [referenceOrg(gp)];
  return patient;
}
