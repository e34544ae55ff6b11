import { describe, expect, it } from 'vitest';
import { computeOffsetMinutes, localInstant } from './local-time.ts';

describe('wall-clock time in the region (Europe/London)', () => {
  it('gives every minute of an hour the same offset on the clock-change days (what the cache by hour relies on)', () => {
    for (const [y, mo, d] of [
      [2024, 3, 31],
      [2024, 10, 27],
      [2025, 3, 30],
      [2025, 10, 26],
      [2026, 3, 29],
      [2026, 10, 25],
    ] as const)
      for (let h = 0; h < 24; h++)
        for (let mi = 0; mi < 60; mi++)
          expect(computeOffsetMinutes(y, mo, d, h, mi)).toBe(computeOffsetMinutes(y, mo, d, h, 0));
  });

  it('places a wall-clock time on the right instant in winter, in summer and across the changes', () => {
    const iso = (t: number) => new Date(t).toISOString();
    expect(iso(localInstant(2026, 0, 15, 9, 30))).toBe('2026-01-15T09:30:00.000Z');
    expect(iso(localInstant(2026, 5, 10))).toBe('2026-06-09T23:00:00.000Z');
    // the spring-forward day is 23 hours long, the autumn one 25
    expect(localInstant(2026, 2, 30) - localInstant(2026, 2, 29)).toBe(23 * 3_600_000);
    expect(localInstant(2026, 9, 26) - localInstant(2026, 9, 25)).toBe(25 * 3_600_000);
    // a day past the month's end is the next month's first, as in Date.UTC
    expect(localInstant(2026, 5, 31)).toBe(localInstant(2026, 6, 1));
  });
});
