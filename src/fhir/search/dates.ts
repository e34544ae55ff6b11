/**
 * FHIR date search (R4 §3.1.1.4.2 and the prefixes of §3.1.1.4): a search value and a resource's
 * date are both ranges (a date's precision is a range: "2021" is the whole year; a Period is its
 * start to its end), and each prefix is a relation between the two. Written by hand: no maintained
 * npm library evaluates FHIR date prefixes outside a whole FHIR server.
 */
import { localInstant, utcInstant } from '../local-time.ts';

/** A half-open interval of epoch milliseconds, [lo, hi). Open ends are ±Infinity. */
export interface Range {
  lo: number;
  hi: number;
}

export const DATE_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

export interface DateValue {
  prefix: DatePrefix;
  range: Range;
  text: string;
}

const DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The range a FHIR date, dateTime or instant covers, by its precision; undefined if it is not one.
 * A value without a zone (a date, or a search value's dateTime) is wall-clock time in the region
 * (Europe/London): "2026-06-10" is the day as lived in England, from 23:00 UTC the evening before
 * in summer. Both sides of a comparison are read so, so a date stored as a date still matches
 * itself, and an event at 00:30 BST falls on the day the clinician searched for.
 */
export function dateRange(text: string): Range | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : 1;
  const day = d ? Number(d) : 1;
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  // a date that does not exist (31 February) rolls over in Date.UTC: refuse it
  if (new Date(utcInstant(year, month - 1, day)).getUTCDate() !== day) return undefined;
  const [hour, minute, second] = [h ? Number(h) : 0, mi ? Number(mi) : 0, s ? Number(s) : 0];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  // an instant at the start of a wall-clock time: in the zone given, or else the region's
  const at = (yy: number, monthIndex: number, dd: number, hh = 0, mm = 0, ss = 0) =>
    tz === undefined
      ? localInstant(yy, monthIndex, dd, hh, mm, ss)
      : utcInstant(yy, monthIndex, dd, hh, mm, ss) - offsetOf(tz);
  const lo = at(year, month - 1, day, hour, minute, second) + (frac ? Number(`0.${frac}`) * 1000 : 0);
  let hi: number;
  if (frac || s) hi = lo + (frac ? 1 : 1000);
  else if (mi) hi = lo + 60_000;
  else if (d) hi = at(year, month - 1, day + 1);
  else if (mo) hi = at(year, month, 1);
  else hi = at(year + 1, 0, 1);
  return { lo, hi };
}

/** "Z", "+01:00", "-05:00" in milliseconds */
function offsetOf(tz: string): number {
  if (tz === 'Z') return 0;
  return (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000;
}

/** A date search value ("ge2021-03", "2021-03-04T10:00:00Z"); undefined if it is not one. */
export function parseDateValue(text: string): DateValue | undefined {
  const prefix = (DATE_PREFIXES as readonly string[]).includes(text.slice(0, 2))
    ? (text.slice(0, 2) as DatePrefix)
    : 'eq';
  const rest = text.slice(0, 2) === prefix ? text.slice(2) : text;
  const range = dateRange(rest);
  return range ? { prefix, range, text } : undefined;
}

const DAY = 86_400_000;

/** Whether a resource's date (as a range) satisfies one search value. */
export function dateMatches(v: DateValue, target: Range, now: Date): boolean {
  const s = v.range;
  const contains = s.lo <= target.lo && target.hi <= s.hi;
  switch (v.prefix) {
    case 'eq':
      return contains;
    case 'ne':
      return !contains;
    case 'gt':
      return target.hi > s.hi;
    case 'lt':
      return target.lo < s.lo;
    case 'ge':
      return target.hi > s.hi || contains;
    case 'le':
      return target.lo < s.lo || contains;
    case 'sa':
      return target.lo >= s.hi;
    case 'eb':
      return target.hi <= s.lo;
    case 'ap': {
      // "approximately": within 10% of the distance from now (at least a day), as the spec suggests
      const gap = Math.max(Math.abs(now.getTime() - s.lo) * 0.1, DAY);
      return target.lo < s.hi + gap && target.hi > s.lo - gap;
    }
  }
}

/** The range of a date element's value: a date/dateTime/instant string, or a Period. */
export function elementRange(value: unknown): Range | undefined {
  if (typeof value === 'string') return dateRange(value);
  if (value && typeof value === 'object') {
    const p = value as { start?: unknown; end?: unknown };
    if (typeof p.start !== 'string' && typeof p.end !== 'string') return undefined;
    const start = typeof p.start === 'string' ? dateRange(p.start) : undefined;
    const end = typeof p.end === 'string' ? dateRange(p.end) : undefined;
    return { lo: start?.lo ?? -Infinity, hi: end?.hi ?? Infinity };
  }
  return undefined;
}
