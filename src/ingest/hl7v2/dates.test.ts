import { describe, expect, it } from 'vitest';
import { computeOffset, hl7DateToFhir } from './dates.ts';

describe('HL7 v2 times without a zone (Europe/London)', () => {
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
          expect(computeOffset(y, mo, d, h, mi)).toBe(computeOffset(y, mo, d, h, 0));
  });

  it('answers the same with the cache warm as cold, either side of the change', () => {
    const at = (ts: string) => hl7DateToFhir(ts, 'MSH-7');
    expect(at('202603290059')).toEqual({ ok: true, value: '2026-03-29T00:59:00+00:00' });
    expect(at('202603290230')).toEqual({ ok: true, value: '2026-03-29T02:30:00+01:00' });
    expect(at('202603290215')).toEqual({ ok: true, value: '2026-03-29T02:15:00+01:00' });
    expect(at('202610250030')).toEqual({ ok: true, value: '2026-10-25T00:30:00+01:00' });
    expect(at('202610250230')).toEqual({ ok: true, value: '2026-10-25T02:30:00+00:00' });
    expect(at('202607011200')).toEqual({ ok: true, value: '2026-07-01T12:00:00+01:00' });
    expect(at('202601011200')).toEqual({ ok: true, value: '2026-01-01T12:00:00+00:00' });
  });
});
