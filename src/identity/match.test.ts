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

/** Records of JANE (or of someone else) as other sources hold them, and what the rules decide. */
const CASES: [string, Who, 'link' | 'review' | 'apart'][] = [
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
];

describe('Fellegi–Sunter decisions with the default rules', () => {
  const decide = (a: Who, b: Who) => scorePair(rules, featuresOf(person(a)), featuresOf(person(b))).decision;
  it.each(CASES)('%s → %s', (_what, other, want) => expect(decide(JANE, other)).toBe(want));

  it('agreeing on a rare surname counts for more than on a common one', () => {
    const a = featuresOf(person(JANE));
    const tf = (field: string, v: string) =>
      field === 'family' ? (v === 'oduya' ? 0.0001 : 0.05) : undefined;
    const rare = scorePair(rules, a, a, tf).weight;
    const smith = featuresOf(person({ ...JANE, family: 'Smith' }));
    const common = scorePair(rules, smith, smith, tf).weight;
    expect(rare - common).toBeCloseTo(Math.log2(0.05 / 0.0001), 5);
  });
});

describe('blocking: which records a decision compares', () => {
  const jane = featuresOf(person(JANE));
  const meets = (a: Who, b: Who) => {
    const stored = new Set(blockingKeys(featuresOf(person(b))).block);
    return keyProbes(featuresOf(person(a))).some((k) => stored.has(k));
  };

  it('keys pair two fields: birth date with surname, first name or postcode; postcode with first name; both names with the birth year', () =>
    expect(blockingKeys(jane)).toEqual({
      dob: '1984-03-07',
      block: [
        `df:1984-03-07:${nysiis('oduya')}`,
        `dg:1984-03-07:${nysiis('jane')}`,
        'dp:1984-03-07:ND1 2AB',
        `pg:ND1 2AB:${nysiis('jane')}`,
        `fg:1984:${nysiis('oduya')}:${nysiis('jane')}`,
      ],
    }));

  it.each(CASES.filter(([, , want]) => want !== 'apart'))(
    'the rules would not keep apart "%s", and a key finds it whichever record arrives first',
    (_what, other) => {
      expect(meets(JANE, other)).toBe(true);
      expect(meets(other, JANE)).toBe(true);
    },
  );

  it.each([
    ['a nickname, moved house', { ...JANE, given: 'Janie', postcode: 'ND4 7QR' }],
    ['a mistyped birth day, moved house', { ...JANE, birthDate: '1984-03-09', postcode: 'ND4 7QR' }],
    ['a married name, moved house', { ...JANE, family: 'Hepworth', postcode: 'ND4 7QR' }],
    ['a married name and a nickname', { ...JANE, family: 'Hepworth', given: 'Janie' }],
    ['a typo in the surname, a mistyped birth day', { ...JANE, family: 'Oudya', birthDate: '1984-03-09' }],
    ['day and month swapped, moved house', { ...JANE, birthDate: '1984-07-03', postcode: 'ND4 7QR' }],
    [
      'names the other way round, moved house',
      { ...JANE, given: 'Oduya', family: 'Jane', postcode: 'ND4 7QR' },
    ],
    [
      '"Bill" for William, moved house',
      { ...JANE, given: 'Bill', postcode: 'ND4 7QR' },
      { ...JANE, given: 'William' },
    ],
  ] as [string, Who, Who?][])('two changes leave a key: %s', (_what, other, self = JANE) => {
    expect(meets(self, other)).toBe(true);
    expect(meets(other, self)).toBe(true);
  });

  it('a double-barrelled surname meets either half, and a record that knows a former surname meets one under it', () => {
    expect(
      meets({ ...JANE, family: 'Oduya-Hepworth' }, { ...JANE, family: 'Hepworth', postcode: 'ND4 7QR' }),
    ).toBe(true);
    const married = person({ ...JANE, family: 'Hepworth', postcode: 'ND4 7QR', given: 'Beatrice' });
    married.name = [...married.name!, { use: 'maiden', family: 'Oduya' }];
    // found under the maiden name whichever arrives first
    const shared = [`df:1984-03-07:${nysiis('oduya')}`];
    expect(keyProbes(featuresOf(married)).filter((k) => blockingKeys(jane).block.includes(k))).toEqual(
      shared,
    );
    expect(keyProbes(jane).filter((k) => blockingKeys(featuresOf(married)).block.includes(k))).toEqual(
      shared,
    );
  });

  it('records sharing a single field are not compared: the same birth date, or the same postcode, and nothing else', () => {
    const other = {
      given: 'Peter',
      family: 'Quennell',
      gender: 'male',
      line: '1 Station Road',
      phone: '',
    } as const;
    expect(meets(JANE, { ...JANE, ...other, postcode: 'ND9 9ZZ' })).toBe(false);
    expect(meets(JANE, { ...JANE, ...other, birthDate: '1950-01-01' })).toBe(false);
    expect(meets(JANE, { ...JANE, ...other })).toBe(true);
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
