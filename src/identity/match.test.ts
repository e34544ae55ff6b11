import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { COMPARATORS } from './comparators.ts';
import { blockingKeys, featuresOf, keyProbes } from './features.ts';
import { isNicknamePair } from './nicknames.ts';
import { nameParts, normalisePostcode, normaliseText } from './normalise.ts';
import { nysiis } from './phonetic.ts';
import { loadMatchRules, parseMatchRules } from './rules.ts';
import { scorePair } from './score.ts';
import { jaroWinkler } from './similarity.ts';

const rules = loadMatchRules();

interface Who {
  given?: string;
  family?: string;
  birthDate?: string;
  gender?: 'male' | 'female';
  postcode?: string;
  line?: string;
  phone?: string;
  nhs?: string;
}

function person(w: Who): Patient {
  return {
    resourceType: 'Patient',
    ...(w.nhs ? { identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: w.nhs }] } : {}),
    name: [{ family: w.family, given: w.given ? w.given.split(' ') : [] }],
    ...(w.birthDate ? { birthDate: w.birthDate } : {}),
    ...(w.gender ? { gender: w.gender } : {}),
    address: w.postcode || w.line ? [{ line: w.line ? [w.line] : [], postalCode: w.postcode }] : [],
    ...(w.phone ? { telecom: [{ system: 'phone', value: w.phone }] } : {}),
  };
}

const JANE: Who = {
  given: 'Jane Mary',
  family: 'Oduya',
  birthDate: '1984-03-07',
  gender: 'female',
  postcode: 'ND1 2AB',
  line: '12 Mill Lane',
  phone: '07700 900123',
};

describe('normalisation', () => {
  it.each([
    ["Zoë O'Brien", 'zoe obrien'],
    ['  SMITH-jones ', 'smith jones'],
    ['Åsa  Ñúñez', 'asa nunez'],
  ])('%s → %s', (raw, want) => expect(normaliseText(raw)).toBe(want));
  it('splits double-barrelled names into parts', () =>
    expect(nameParts('Bowes-Lyon Smith')).toEqual(['bowes', 'lyon', 'smith']));
  it.each([
    ['nd12ab', 'ND1 2AB'],
    ['ls1  4dy', 'LS1 4DY'],
    ['SW1A1AA', 'SW1A 1AA'],
  ])('postcode %s → %s', (raw, want) => expect(normalisePostcode(raw)).toBe(want));
});

describe('phonetic code (NYSIIS) and similarity', () => {
  it.each([
    ['smith', 'smyth'],
    ['stephen', 'stephan'],
    ['greenwood', 'grenwood'],
    ['macdonald', 'mcdonald'],
    ['philips', 'phillips'],
  ])('%s and %s share a code', (a, b) => expect(nysiis(a)).toBe(nysiis(b)));
  it.each([
    ['smith', 'jones'],
    ['patel', 'price'],
  ])('%s and %s do not', (a, b) => expect(nysiis(a)).not.toBe(nysiis(b)));
  it('Jaro-Winkler: MARTHA/MARHTA 0.961, DIXON/DICKSONX 0.813', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.813, 3);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
  });
  it('knows common nicknames', () => {
    expect(isNicknamePair('bill', 'william')).toBe(true);
    expect(isNicknamePair('peggy', 'margaret')).toBe(true);
    expect(isNicknamePair('bill', 'margaret')).toBe(false);
  });
});

describe('comparators', () => {
  const level = (comparator: string, a: Who, b: Who, similarity = 0.9) =>
    COMPARATORS[comparator]!.compare(featuresOf(person(a)), featuresOf(person(b)), similarity);
  it.each([
    ['family-name', { family: 'Smith' }, { family: 'SMITH' }, 'exact'],
    ['family-name', { family: 'Smith-Jones' }, { family: 'Jones' }, 'part'],
    ['family-name', { family: 'Smith' }, { family: 'Smyth' }, 'phonetic'],
    ['family-name', { family: 'Greenwood' }, { family: 'Grenwood' }, 'phonetic'],
    ['family-name', { family: 'Hepworth' }, { family: 'Hepwroth' }, 'similar'],
    ['family-name', { family: 'Smith' }, { family: 'Patel' }, 'different'],
    ['family-name', { family: 'Smith' }, {}, null],
    ['given-name', { given: 'William' }, { given: 'Bill' }, 'nickname'],
    ['given-name', { given: 'Anne Louise' }, { given: 'Louise' }, 'other-given'],
    ['given-name', { given: 'Jon' }, { given: 'John' }, 'nickname'],
    ['given-name', { given: 'Stephen' }, { given: 'Stephan' }, 'phonetic'],
    ['given-name', { given: 'J' }, { given: 'James' }, 'initial'],
    ['given-name', { given: 'Jane' }, { given: 'Susan' }, 'different'],
    ['birth-date', { birthDate: '1984-03-07' }, { birthDate: '1984-03-07' }, 'exact'],
    ['birth-date', { birthDate: '1984-03-07' }, { birthDate: '1984-07-03' }, 'day-month-swap'],
    ['birth-date', { birthDate: '1984-03-07' }, { birthDate: '1984-03-01' }, 'one-digit'],
    ['birth-date', { birthDate: '1984-03-07' }, { birthDate: '1948-03-07' }, 'one-digit'],
    ['birth-date', { birthDate: '1984-03-07' }, { birthDate: '1990-11-21' }, 'different'],
    ['sex', { gender: 'female' }, { gender: 'male' }, 'different'],
    ['postcode', { postcode: 'ND1 2AB' }, { postcode: 'nd12ab' }, 'exact'],
    ['postcode', { postcode: 'ND1 2AB' }, { postcode: 'ND1 2XY' }, 'sector'],
    ['postcode', { postcode: 'ND1 2AB' }, { postcode: 'ND1 5XY' }, 'district'],
    ['postcode', { postcode: 'ND1 2AB' }, { postcode: 'ND7 2AB' }, 'different'],
    ['address-line', { line: '12 Mill Lane' }, { line: '12, Mill Ln.' }, 'exact'],
    ['address-line', { line: '12 Mill Lane' }, { line: '12 Mil Lane' }, 'similar'],
    ['address-line', { line: '12 Mill Lane' }, { line: '14 Mill Lane' }, 'different'],
  ] as const)('%s: %o vs %o → %s', (comparator, a, b, want) => expect(level(comparator, a, b)).toBe(want));
});

describe('Fellegi–Sunter decisions with the default rules', () => {
  const decide = (a: Who, b: Who) => scorePair(rules, featuresOf(person(a)), featuresOf(person(b))).decision;
  it.each([
    ['the same record', JANE, 'link'],
    ['a nickname and no middle name', { ...JANE, given: 'Janie' }, 'link'],
    ['a typo in the surname', { ...JANE, family: 'Oudya' }, 'link'],
    ['day and month swapped', { ...JANE, birthDate: '1984-07-03' }, 'link'],
    ['names the other way round', { ...JANE, given: 'Oduya', family: 'Jane' }, 'link'],
    ['moved house, same phone', { ...JANE, postcode: 'ND4 7QR', line: '3 Oak Road' }, 'link'],
    ['a married name at the same address', { ...JANE, family: 'Hepworth' }, 'link'],
    [
      'a married name, moved house, no phone: too little agrees',
      { ...JANE, family: 'Hepworth', postcode: 'ND4 7QR', line: '3 Oak Road', phone: '' },
      'apart',
    ],
    ['a twin: same everything but the given name', { ...JANE, given: 'Susan' }, 'review'],
    ['a twin brother: never linked automatically', { ...JANE, given: 'Peter', gender: 'male' }, 'review'],
    [
      'another woman of the same name and birth year',
      {
        ...JANE,
        birthDate: '1984-11-21',
        postcode: 'ND3 9ZZ',
        line: '5 Church Street',
        phone: '01632 960001',
      },
      'apart',
    ],
  ] as const)('%s → %s', (_what, other, want) => expect(decide(JANE, other)).toBe(want));

  it('agreeing on a rare surname counts for more than on a common one', () => {
    const a = featuresOf(person(JANE));
    const tf = (field: string, v: string) =>
      field === 'family' ? (v === 'oduya' ? 0.0001 : 0.05) : undefined;
    const rare = scorePair(rules, a, a, tf).weight;
    const smith = featuresOf(person({ ...JANE, family: 'Smith' }));
    const common = scorePair(rules, smith, smith, tf).weight;
    expect(rare - common).toBeCloseTo(Math.log2(0.05 / 0.0001), 5);
  });

  it('finds candidates by birth date and sex, surname code and birth month, or postcode and sex', () => {
    expect(blockingKeys(featuresOf(person(JANE)))).toEqual({
      dob: '1984-03-07|f',
      name: `${nysiis('oduya')}:1984-03`,
      postcode: 'ND1 2AB|f',
    });
  });
});

describe('blocking by sex', () => {
  const jane = featuresOf(person(JANE));
  const unknown = featuresOf(person({ ...JANE, gender: undefined }));
  it("a record of known sex probes its own sex's keys and those of records whose sex is not known", () =>
    expect(keyProbes(jane)).toEqual({
      dob: ['1984-03-07|f', '1984-03-07', '1984-07-03|f', '1984-07-03'],
      postcode: ['ND1 2AB|f', 'ND1 2AB'],
    }));
  it('a record of unknown sex is stored under the bare keys, which every probe includes, and probes both sexes', () => {
    expect(blockingKeys(unknown)).toMatchObject({ dob: '1984-03-07', postcode: 'ND1 2AB' });
    expect(keyProbes(jane).dob).toContain(blockingKeys(unknown).dob);
    expect(keyProbes(unknown).postcode).toEqual(['ND1 2AB|f', 'ND1 2AB|m', 'ND1 2AB']);
  });
});

describe('the rules file', () => {
  it('is refused, naming the problem, when a comparator is given levels it does not have', () => {
    const bad = structuredClone(rules) as unknown as { comparisons: { levels: { level: string }[] }[] };
    bad.comparisons[0]!.levels[1]!.level = 'nearly';
    expect(() => parseMatchRules(bad)).toThrow(/not valid/);
  });
  it('is refused when the review threshold is above the link threshold', () =>
    expect(() => parseMatchRules({ ...rules, thresholds: { link: 1, review: 5 } })).toThrow(/not valid/));
});
