import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hasSpelledNumbers,
  parseKeepingDecimals,
  parseStored,
  stringifyKeepingDecimals,
} from './decimals.ts';
import { checkJsonText } from './guard.ts';

/** parse as intake does (the guard says whether to keep spellings), then write as the store does */
const roundTrip = (text: string) =>
  stringifyKeepingDecimals(parseKeepingDecimals(text, checkJsonText(text)) as object);

describe('decimals as they were written', () => {
  it('tells which numbers JSON.stringify would write otherwise, and ignores those inside strings', () => {
    for (const t of ['72.50', '1e2', '1.0E-3', '-0', '3.14159265358979323846', '12345678901234567'])
      expect(hasSpelledNumbers(`{"v":${t}}`), t).toBe(true);
    for (const t of ['72.5', '0', '-12', '0.001', '123456789012345', '100'])
      expect(hasSpelledNumbers(`{"v":${t}}`), t).toBe(false);
    expect(hasSpelledNumbers('{"note":"72.50 and \\"1e2\\"","v":[1,2.5]}')).toBe(false);
  });

  it('writes every number back as sent, in any object or array of a resource', () => {
    const decimal = fc
      .tuple(fc.integer({ min: -99999, max: 99999 }), fc.nat({ max: 9999 }), fc.nat({ max: 3 }))
      .map(([whole, frac, zeros]) => `${whole}.${frac}${'0'.repeat(zeros)}`);
    const value: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        decimal,
        fc.string().map((s) => JSON.stringify(s)),
        fc.array(tie('v'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), tie('v'), { maxKeys: 4 }).map(
          (o) =>
            `{${Object.entries(o)
              .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
              .join(',')}}`,
        ),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        const text = `{"resourceType":"Observation","component":[{"valueQuantity":{"value":${v}}}]}`;
        // a key repeated in the generated object is the one case JSON.parse takes differently
        fc.pre(JSON.stringify(JSON.parse(text)).length > 0 && !/"([^"]*)":.*"\1":/.test(text));
        const back = roundTrip(text);
        expect(JSON.parse(back)).toEqual(JSON.parse(text));
        for (const spelled of text.match(/-?\d+\.\d*0(?=[,}\]])/g) ?? []) expect(back).toContain(spelled);
      }),
      { numRuns: 300 },
    );
  });

  it('cannot be made to write a sender’s string as a number', () => {
    const text =
      '{"resourceType":"Observation","note":[{"text":"\\u00010123:0"}],"valueQuantity":{"value":4.10}}';
    const back = roundTrip(text);
    expect(back).toContain('"text":"\\u00010123:0"');
    expect(back).toContain('"value":4.10');
  });

  it('writes the number the value now holds when it was changed after parsing', () => {
    const r = parseStored('{"resourceType":"Observation","valueQuantity":{"value":4.10}}') as {
      valueQuantity: { value: number };
    };
    r.valueQuantity.value = 5;
    expect(stringifyKeepingDecimals(r)).toBe('{"resourceType":"Observation","valueQuantity":{"value":5}}');
  });

  it('reads a stored body with a number no double holds, as JSON.parse does, and refuses it at intake', () => {
    const text = '{"resourceType":"Observation","valueQuantity":{"value":1e400},"note":[{"text":"x"}]}';
    expect(parseStored(text)).toMatchObject({ valueQuantity: { value: Infinity } });
    expect(() => parseKeepingDecimals(text, true)).toThrow(/too large/);
  });

  it('still reads a body that repeats a key, as JSON.parse does', () => {
    const text =
      '{"resourceType":"Observation","status":"draft","status":"final","valueQuantity":{"value":4.10}}';
    expect(parseKeepingDecimals(text, true)).toMatchObject({
      status: 'final',
      valueQuantity: { value: 4.1 },
    });
  });
});
