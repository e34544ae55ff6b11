/**
 * NHS numbers from the 999 test range, unique per person index, and the deliberately wrong numbers
 * some source systems hold.
 */
import { isValidNhsNumber, nhsCheckDigit } from '../identity/index.ts';
import { mixSeeds, type Rng } from './random.ts';

const PREFIXES = 100_000;
const PER_PREFIX = 9;

/** How many persons can have distinct NHS numbers (about all the valid 999 numbers there are). */
export const NHS_NUMBER_CAPACITY = PREFIXES * PER_PREFIX;

/**
 * The true NHS number of person `index`. The stem is 999 + five digits + one more digit: the five
 * come from a seeded permutation of index / 9, and for any five at least nine of the ten last digits
 * give a valid check digit (the last weight is 2, so each digit shifts the sum to a different residue
 * mod 11 and only one residue is invalid). Numbers are therefore unique for the first 900,000 indexes.
 */
export function deriveNhsNumber(index: number, seed: number): string {
  const slot = index % NHS_NUMBER_CAPACITY;
  const block = Math.floor(slot / PER_PREFIX);
  const h = mixSeeds(seed, 0x4e4853);
  let multiplier = (h % 99_991) * 2 + 1;
  if (multiplier % 5 === 0) multiplier += 2;
  const five = (block * multiplier + (mixSeeds(h, 7) % PREFIXES)) % PREFIXES;
  const stem8 = `999${five.toString().padStart(5, '0')}`;
  let wanted = slot % PER_PREFIX;
  const offset = h % 10;
  for (let k = 0; k < 10; k++) {
    const stem = stem8 + String((k + offset) % 10);
    const check = nhsCheckDigit(stem);
    if (check === undefined) continue;
    if (wanted === 0) return stem + String(check);
    wanted--;
  }
  throw new Error('unreachable: every NHS number prefix has nine valid last digits');
}

/** A transcription error: one digit changed so that the number fails the modulus-11 check. */
export function corruptNhsNumber(rng: Rng, nhsNumber: string): string {
  for (;;) {
    const pos = rng.int(3, 9);
    const digit = String(rng.int(0, 9));
    if (digit === nhsNumber[pos]) continue;
    const wrong = nhsNumber.slice(0, pos) + digit + nhsNumber.slice(pos + 1);
    if (!isValidNhsNumber(wrong)) return wrong;
  }
}
