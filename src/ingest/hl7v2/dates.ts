/**
 * HL7 v2 dates and times (DT, TS, DTM) to FHIR. Written here because the parsers on npm accept
 * impossible dates (month 13 becomes January next year) and drop the time zone rules: a time
 * without a zone is local time in England (Europe/London, with summer time), as UK feeds send it.
 */
import type { Problem } from '../../errors/index.ts';
import { formatOffset, localOffsetMinutes } from '../../fhir/index.ts';

const TS = /^(\d{4})(\d{2})?(\d{2})?(?:(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,4}))?)?([+-]\d{4})?$/;

export type DateResult = { ok: true; value: string | undefined } | { ok: false; problem: Problem };

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The offset ("+01:00") of a wall-clock time in the feed's time zone, the region's. */
function londonOffset(y: number, mo: number, d: number, h: number): string {
  return formatOffset(localOffsetMinutes(y, mo, d, h));
}

/** A date of the proleptic calendar, any year from 1 (Date.UTC reads years 0–99 as 1900–1999). */
function utcDate(y: number, monthIndex: number, day: number): Date {
  const d = new Date(0);
  d.setUTCFullYear(y, monthIndex, day);
  return d;
}

const PARTIAL_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/**
 * Dates to a day, month or year in the feed's time zone ("2024-03-25", "2024-07", "2024") as the
 * instant `from` begins and the instant after `to` ends (by default `from` again): a day is 23 or 25
 * hours long on the days the clocks change. Undefined unless both are such dates and `to` does not
 * end before `from` begins.
 */
export function localPeriodBounds(from: string, to = from): { start: string; end: string } | undefined {
  const a = PARTIAL_DATE.exec(from);
  const b = PARTIAL_DATE.exec(to);
  if (!a || !b) return undefined;
  const midnight = (d: Date) => {
    const [y, mo, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${pad(y, 4)}-${pad(mo)}-${pad(day)}T00:00:00${londonOffset(y, mo, day, 0)}`;
  };
  const first = utcDate(Number(a[1]), Number(a[2] ?? 1) - 1, Number(a[3] ?? 1));
  const [y, mo, day] = [Number(b[1]), Number(b[2] ?? 1) - 1, Number(b[3] ?? 1)];
  const after = b[3] ? utcDate(y, mo, day + 1) : b[2] ? utcDate(y, mo + 1, 1) : utcDate(y + 1, 0, 1);
  if (after <= first) return undefined;
  return { start: midnight(first), end: midnight(after) };
}

/**
 * An HL7 v2 date or timestamp as a FHIR date (to the precision sent) or dateTime (with a zone).
 * Empty is `undefined`; anything impossible is a problem naming `where` (e.g. "PID-7").
 */
export function hl7DateToFhir(raw: string, where: string, dateOnly = false): DateResult {
  const value = raw.trim();
  if (!value || value === '""') return { ok: true, value: undefined };
  const m = TS.exec(value);
  const bad = (why: string): DateResult => ({
    ok: false,
    problem: { message: `${where} is not a valid date/time (${why})`, expression: where },
  });
  if (!m) return bad('expected YYYY[MM[DD[HHMM[SS]]]][+/-ZZZZ]');
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  if (mo !== undefined && (Number(mo) < 1 || Number(mo) > 12)) return bad(`month ${mo}`);
  if (d !== undefined && (Number(d) < 1 || Number(d) > daysIn(year, Number(mo)))) return bad(`day ${d}`);
  if (h !== undefined && Number(h) > 23) return bad(`hour ${h}`);
  if (mi !== undefined && Number(mi) > 59) return bad(`minute ${mi}`);
  if (s !== undefined && Number(s) > 59) return bad(`second ${s}`);
  const date = [y, mo, d].filter((p) => p !== undefined).join('-');
  if (h === undefined || dateOnly || d === undefined) return { ok: true, value: date };
  const time = `${h}:${mi ?? '00'}:${s ?? '00'}${frac ? `.${frac}` : ''}`;
  const tz = zone
    ? `${zone.slice(0, 3)}:${zone.slice(3)}`
    : londonOffset(year, Number(mo), Number(d), Number(h));
  return { ok: true, value: `${date}T${time}${tz}` };
}
