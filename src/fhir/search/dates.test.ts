import { describe, expect, it } from 'vitest';
import { dateMatches, dateRange, elementRange, parseDateValue } from './dates.ts';

const NOW = new Date('2026-12-07T12:00:00Z');
const iso = (t: number) => new Date(t).toISOString();
const matches = (search: string, element: unknown) =>
  dateMatches(parseDateValue(search)!, elementRange(element)!, NOW);

describe("FHIR date search in the region's time (Europe/London)", () => {
  it('finds an event of a summer night on the day it happened in England', () => {
    // half past midnight BST on 10 June is 23:30 UTC on 9 June
    const lateNight = '2026-06-10T00:30:00+01:00';
    expect(matches('2026-06-10', lateNight)).toBe(true);
    expect(matches('2026-06-09', lateNight)).toBe(false);
    expect(matches('ge2026-06-10', lateNight)).toBe(true);
    expect(matches('lt2026-06-10', lateNight)).toBe(false);
    expect(matches('2026-06', lateNight)).toBe(true);
  });

  it('reads a day without a zone as the day lived in England, 23 or 25 hours on the changes', () => {
    expect(dateRange('2026-06-10')).toEqual({
      lo: Date.parse('2026-06-09T23:00:00Z'),
      hi: Date.parse('2026-06-10T23:00:00Z'),
    });
    expect(iso(dateRange('2026-01-15')!.lo)).toBe('2026-01-15T00:00:00.000Z');
    const spring = dateRange('2026-03-29')!;
    expect(spring.hi - spring.lo).toBe(23 * 3_600_000);
    const autumn = dateRange('2026-10-25')!;
    expect(autumn.hi - autumn.lo).toBe(25 * 3_600_000);
    // a month and a year run from local midnight on their first day
    expect(iso(dateRange('2026-07')!.lo)).toBe('2026-06-30T23:00:00.000Z');
    expect(iso(dateRange('2026-07')!.hi)).toBe('2026-07-31T23:00:00.000Z');
    expect(iso(dateRange('2026')!.hi)).toBe('2027-01-01T00:00:00.000Z');
  });

  it('still matches a stored date with the same date searched, whatever the season', () => {
    for (const day of ['2026-01-15', '2026-06-10', '2026-03-29', '2026-10-25']) {
      expect(matches(day, day)).toBe(true);
      expect(matches(`ne${day}`, day)).toBe(false);
    }
    expect(matches('2026-06', '2026-06-30')).toBe(true);
    expect(matches('2026-06', '2026-07-01')).toBe(false);
  });

  it('reads a time without a zone as wall-clock time, and a zone when one is given', () => {
    expect(iso(dateRange('2026-06-10T09:00')!.lo)).toBe('2026-06-10T08:00:00.000Z');
    expect(iso(dateRange('2026-06-10T09:00:00Z')!.lo)).toBe('2026-06-10T09:00:00.000Z');
    expect(iso(dateRange('2026-06-10T09:00:00-05:00')!.lo)).toBe('2026-06-10T14:00:00.000Z');
    expect(matches('2026-06-10T09:00', '2026-06-10T08:00:00Z')).toBe(true);
  });

  it('reads the years 0000 to 0099 as themselves, not as 1900 to 1999', () => {
    // (London kept local mean time then, a minute off Greenwich: the time zone rules say so)
    expect(iso(dateRange('0050-06-01')!.lo).slice(0, 13)).toBe('0050-06-01T00');
    expect(dateRange('0099')!.lo).toBeLessThan(dateRange('0099')!.hi);
    expect(matches('0050-06-01', '1950-06-01')).toBe(false);
  });

  it('refuses what is not a date or a time', () => {
    for (const bad of ['2026-02-30', '2026-13', '2026-06-10T25:00', '2026-06-10T10:61', '10/06/2026'])
      expect(dateRange(bad)).toBeUndefined();
  });
});
