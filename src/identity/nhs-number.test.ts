import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatNhsNumber, isValidNhsNumber, nhsCheckDigit } from './nhs-number.ts';

describe('NHS number', () => {
  it.each([
    ['9434765919', true], // published example
    ['9990000018', true],
    ['943 476 5919', true],
    ['9434765918', false], // wrong check digit
    ['9912003890', false], // UK Core BabyPatient example: fails modulus 11
    ['943476591', false],
    ['94347659190', false],
    ['abcdefghij', false],
    ['', false],
  ])('%s valid=%s', (n, ok) => expect(isValidNhsNumber(n)).toBe(ok));

  it('changing any one digit of a valid number makes it invalid', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        (stem, pos, delta) => {
          const nine = String(stem).padStart(9, '0');
          const check = nhsCheckDigit(nine);
          fc.pre(check !== undefined);
          const valid = nine + String(check);
          const digits = valid.split('');
          digits[pos] = String((Number(digits[pos]) + delta) % 10);
          expect(isValidNhsNumber(valid)).toBe(true);
          expect(isValidNhsNumber(digits.join(''))).toBe(false);
        },
      ),
    );
  });

  it('formats as 3-3-4', () => expect(formatNhsNumber('9991234567')).toBe('999 123 4567'));
});
