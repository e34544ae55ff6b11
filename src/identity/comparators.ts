/**
 * Comparators: each looks at one field of two records and names the level of agreement, best
 * first; null when either side lacks the field. The rules file gives each level its m and u.
 */
import type { MatchFeatures } from './features.ts';
import { isNicknamePair } from './nicknames.ts';
import { nysiis } from './phonetic.ts';
import { jaroWinkler } from './similarity.ts';

export type Comparator = (a: MatchFeatures, b: MatchFeatures, similarity: number) => string | null;

const anyPair = (xs: string[], ys: string[], ok: (x: string, y: string) => boolean): boolean =>
  xs.some((x) => ys.some((y) => ok(x, y)));
const phoneticEqual = (x: string, y: string): boolean => {
  const code = nysiis(x);
  return code !== '' && code === nysiis(y);
};
const same = (x: string, y: string): boolean => x === y;

function familyName(a: MatchFeatures, b: MatchFeatures, similarity: number): string | null {
  if (a.family.length === 0 || b.family.length === 0) return null;
  if (a.family.join(' ') === b.family.join(' ')) return 'exact';
  // a double-barrelled or hyphenated name against one of its parts, or a former name
  const aAll = [...a.family, ...a.formerFamily];
  const bAll = [...b.family, ...b.formerFamily];
  if (anyPair(aAll, bAll, same)) return 'part';
  if (anyPair(a.family, b.family, phoneticEqual)) return 'phonetic';
  if (jaroWinkler(a.family.join(''), b.family.join('')) >= similarity) return 'similar';
  return 'different';
}

function givenName(a: MatchFeatures, b: MatchFeatures, similarity: number): string | null {
  const x = a.given[0];
  const y = b.given[0];
  if (!x || !y) return null;
  if (x === y) return 'exact';
  if (isNicknamePair(x, y)) return 'nickname';
  // known by a middle name, or given names in another order
  if (anyPair(a.given, b.given, same)) return 'other-given';
  if (phoneticEqual(x, y)) return 'phonetic';
  if (jaroWinkler(x, y) >= similarity) return 'similar';
  if ((x.length === 1 || y.length === 1) && x[0] === y[0]) return 'initial';
  return 'different';
}

function oneDigitApart(x: string, y: string): boolean {
  if (x.length !== y.length) return false;
  const diff: number[] = [];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) diff.push(i);
  if (diff.length === 1) return true;
  // two adjacent digits transposed ("1987" / "1978")
  const [i, j] = diff;
  return diff.length === 2 && j === i! + 1 && x[i!] === y[j] && x[j] === y[i!];
}

function birthDate(a: MatchFeatures, b: MatchFeatures): string | null {
  if (!a.birthDate || !b.birthDate) return null;
  if (a.birthDate === b.birthDate) return 'exact';
  const [ya, ma, da] = a.birthDate.split('-');
  const [yb, mb, db] = b.birthDate.split('-');
  if (ya === yb && ma === db && da === mb) return 'day-month-swap';
  if (oneDigitApart(a.birthDate.replace(/-/g, ''), b.birthDate.replace(/-/g, ''))) return 'one-digit';
  return 'different';
}

/**
 * Two birth dates that neither agree nor differ by a slip of the keyboard (day and month swapped,
 * one digit wrong, two adjacent digits transposed): a conflict, not a typo.
 */
export function birthDatesConflict(a: MatchFeatures, b: MatchFeatures): boolean {
  return birthDate(a, b) === 'different';
}

function sex(a: MatchFeatures, b: MatchFeatures): string | null {
  if (!a.sex || !b.sex) return null;
  return a.sex === b.sex ? 'same' : 'different';
}

function postcode(a: MatchFeatures, b: MatchFeatures): string | null {
  if (!a.postcode || !b.postcode) return null;
  if (a.postcode === b.postcode) return 'exact';
  const [outA, inA = ''] = a.postcode.split(' ');
  const [outB, inB = ''] = b.postcode.split(' ');
  if (outA !== outB) return 'different';
  return inA[0] === inB[0] ? 'sector' : 'district';
}

const houseNumber = (line: string): string | undefined => /^\d+[a-z]?\b/.exec(line)?.[0];

function addressLine(a: MatchFeatures, b: MatchFeatures, similarity: number): string | null {
  if (!a.address || !b.address) return null;
  if (a.address === b.address) return 'exact';
  if (houseNumber(a.address) === houseNumber(b.address) && jaroWinkler(a.address, b.address) >= similarity)
    return 'similar';
  return 'different';
}

function phone(a: MatchFeatures, b: MatchFeatures): string | null {
  if (!a.phone || !b.phone) return null;
  return a.phone === b.phone ? 'exact' : 'different';
}

/** Every comparator, with its levels best first (the rules file must give m and u for each). */
export const COMPARATORS: Record<string, { levels: readonly string[]; compare: Comparator }> = {
  'family-name': { levels: ['exact', 'part', 'phonetic', 'similar', 'different'], compare: familyName },
  'given-name': {
    levels: ['exact', 'nickname', 'other-given', 'phonetic', 'similar', 'initial', 'different'],
    compare: givenName,
  },
  'birth-date': { levels: ['exact', 'day-month-swap', 'one-digit', 'different'], compare: birthDate },
  sex: { levels: ['same', 'different'], compare: sex },
  postcode: { levels: ['exact', 'sector', 'district', 'different'], compare: postcode },
  'address-line': { levels: ['exact', 'similar', 'different'], compare: addressLine },
  phone: { levels: ['exact', 'different'], compare: phone },
};

/**
 * Given and family names written the other way round ("Ali Khan" / "Khan Ali"): the second
 * record with its names swapped, so that the comparators see them in the same places.
 */
export function alignNameOrder(a: MatchFeatures, b: MatchFeatures): MatchFeatures {
  const fa = a.family.join(' ');
  const fb = b.family.join(' ');
  if (fa && fa !== fb && fa === b.given[0] && fb === a.given[0])
    return { ...b, given: [...b.family, ...b.given.slice(1)], family: [b.given[0]!] };
  return b;
}
