/**
 * A labelled identity-noise region for measuring the master patient index: each person has a GP
 * record (the true identity, with the NHS number) and, by chance, records at a hospital, in social
 * care and at the out-of-hours/111 service, each copied with the errors such systems really make
 * (typos and transpositions, nicknames, names the other way round, double-barrelled and married
 * surnames, day/month swaps and one-digit date typos, house moves, about a fifth without an NHS
 * number, a few with a wrong one, a sex not recorded or recorded wrongly). Twins share a surname,
 * birth date, address and phone; common names are common. The truth (which person each record is)
 * is written beside the data.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../identity/index.ts';
import { DAY_MS } from './fhir-build.ts';
import { distortIdentity, drawIdentity, type SourceIdentity, type TrueIdentity } from './identity.ts';
import { FEMALE_GIVEN, MALE_GIVEN } from './names.ts';
import { Rng } from './random.ts';

export interface LabelledRecord {
  sourceId: string;
  localId: string;
  /** the true person (index) */
  truth: number;
  patient: Patient;
}

/** Which sources hold a record for a person, and how often. The GP holds everyone. */
export const NOISE_SOURCES = [
  { id: 'gp', share: 1, omitNhs: 0 },
  { id: 'hospital', share: 0.6, omitNhs: 0.1 },
  { id: 'social-care', share: 0.15, omitNhs: 0.3 },
  { id: 'out-of-hours', share: 0.3, omitNhs: 0.25 },
] as const;

const TWIN_SHARE = 0.01;

function oneDigitTypo(rng: Rng, date: string): string {
  const digits = date.replace(/-/g, '').split('');
  const i = rng.pick([6, 7, 3]);
  digits[i] = String((Number(digits[i]) + rng.int(1, 8)) % 10);
  const d = digits.join('');
  const out = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`;
  return Number.isNaN(Date.parse(out)) ? date : out;
}

/** Extra errors on top of distortIdentity's: names the other way round, a one-digit date typo. */
function moreNoise(rng: Rng, who: SourceIdentity): SourceIdentity {
  let out = who;
  if (rng.chance(0.01) && who.given[0]) out = { ...out, given: [who.family], family: who.given[0] };
  if (rng.chance(0.01)) out = { ...out, birthDate: oneDigitTypo(rng, who.birthDate) };
  return out;
}

function toPatient(localId: string, who: SourceIdentity, sex: string): Patient {
  return {
    resourceType: 'Patient',
    id: localId,
    identifier: who.nhsNumber ? [{ system: NHS_NUMBER_SYSTEM, value: who.nhsNumber }] : [],
    name: [{ use: 'official', family: who.family, given: who.given }],
    gender: sex as Patient['gender'],
    birthDate: who.birthDate,
    address: [
      { use: 'home', line: who.address.line, city: who.address.city, postalCode: who.address.postalCode },
    ],
    telecom: [{ system: 'phone', value: who.phone }],
  };
}

/** The sex another source records: now and then not at all ("unknown"), rarely the other one. */
function recordedSex(rng: Rng, sex: string): string {
  if (rng.chance(0.02)) return 'unknown';
  if (rng.chance(0.003)) return sex === 'female' ? 'male' : 'female';
  return sex;
}

/** The true identities: a few are twins of the person before them. */
function truths(rng: Rng, persons: number, seed: number, now: number): TrueIdentity[] {
  const out: TrueIdentity[] = [];
  for (let i = 0; i < persons; i++) {
    const prev = out[i - 1];
    const drawn = drawIdentity(rng, i, seed, now);
    if (prev && rng.chance(TWIN_SHARE)) {
      const given = [rng.pick(drawn.sex === 'female' ? FEMALE_GIVEN : MALE_GIVEN)];
      out.push({ ...prev, nhsNumber: drawn.nhsNumber, sex: drawn.sex, given, formerFamily: undefined });
    } else out.push(drawn);
  }
  return out;
}

export function* labelledRecords(
  persons: number,
  seed = 1,
  now = Date.UTC(2026, 0, 1),
): Generator<LabelledRecord> {
  const rng = new Rng(seed, 0x1d);
  const people = truths(rng, persons, seed, Math.floor(now / DAY_MS) * DAY_MS);
  for (const src of NOISE_SOURCES) {
    for (let i = 0; i < people.length; i++) {
      if (!rng.chance(src.share)) continue;
      const truth = people[i]!;
      const who =
        src.id === 'gp'
          ? { ...truth, given: [...truth.given] }
          : moreNoise(rng, distortIdentity(rng, truth, { omitNhsNumber: src.omitNhs }));
      const localId = `${src.id}-${i.toString(36)}`;
      const sex = src.id === 'gp' ? truth.sex : recordedSex(rng, truth.sex);
      yield { sourceId: src.id, localId, truth: i, patient: toPatient(localId, who, sex) };
    }
  }
}

/** `sharedcare generate --identity-noise`: one NDJSON file of Patients per source, and truth.csv. */
export function writeIdentityNoise(opts: { persons: number; outDir: string; seed: number }): {
  records: number;
} {
  mkdirSync(opts.outDir, { recursive: true });
  const files = new Map<string, string[]>();
  const truth = ['source,local_id,person'];
  for (const r of labelledRecords(opts.persons, opts.seed)) {
    files.set(r.sourceId, [...(files.get(r.sourceId) ?? []), JSON.stringify(r.patient)]);
    truth.push(`${r.sourceId},${r.localId},${r.truth}`);
  }
  for (const [source, lines] of files)
    writeFileSync(path.join(opts.outDir, `${source}.ndjson`), `${lines.join('\n')}\n`);
  writeFileSync(path.join(opts.outDir, 'truth.csv'), `${truth.join('\n')}\n`);
  return { records: truth.length - 1 };
}
