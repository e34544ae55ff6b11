import { describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../identity/index.ts';
import { corruptNhsNumber, deriveNhsNumber } from './nhs-numbers.ts';
import { Rng } from './random.ts';
import { scrambleDigits } from './source-roles.ts';

describe('synthetic NHS numbers', () => {
  it('are valid, in the 999 range and unique per index', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const n = deriveNhsNumber(i, 99);
      if (!isValidNhsNumber(n) || !n.startsWith('999')) throw new Error(`bad NHS number ${n}`);
      seen.add(n);
    }
    expect(seen.size).toBe(50_000);
  });

  it('corrupts to numbers that fail the modulus-11 check and differ in one digit', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const good = deriveNhsNumber(i, 1);
      const bad = corruptNhsNumber(rng, good);
      expect(isValidNhsNumber(bad)).toBe(false);
      expect([...bad].filter((d, k) => d !== good[k])).toHaveLength(1);
    }
  });
});

describe('local ids', () => {
  it('are unique per index', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(scrambleDigits(i, 7, 123_456_789));
    expect(seen.size).toBe(20_000);
  });
});

describe('Rng', () => {
  it('is deterministic and stays in range', () => {
    const a = new Rng(5, 6);
    const b = new Rng(5, 6);
    for (let i = 0; i < 1000; i++) {
      const x = a.next();
      expect(x).toBe(b.next());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(new Rng(5, 7).next()).not.toBe(new Rng(5, 6).next());
  });
});
