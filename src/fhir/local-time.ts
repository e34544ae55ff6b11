/**
 * Wall-clock time in the region's time zone (England: Europe/London, with summer time). HL7 v2
 * feeds send times without a zone in it, and FHIR search values without a zone are read in it (R4
 * §3.1.1.4.2: where neither side has a zone, the server's local time is assumed). The offsets come
 * from the platform's time zone rules (Intl); only the cache is ours.
 */

export const REGION_TIME_ZONE = 'Europe/London';

/** Made once: constructing a DateTimeFormat costs more than the rest of a message's mapping (profiled). */
let offsetFormat: Intl.DateTimeFormat | undefined;

/** The offset in minutes at a wall-clock time, from the time zone rules (exported for the test of the cache). */
export function computeOffsetMinutes(y: number, mo: number, d: number, h: number, mi: number): number {
  const fmt = (offsetFormat ??= new Intl.DateTimeFormat('en-GB', {
    timeZone: REGION_TIME_ZONE,
    timeZoneName: 'longOffset',
  }));
  // the offset at the instant that wall time would be in UTC, then again at the corrected instant
  let offset = 0;
  for (let i = 0; i < 2; i++) {
    const instant = utcInstant(y, mo - 1, d, h, mi) - offset * 60_000;
    const name = fmt.formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName')?.value ?? '';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  }
  return offset;
}

/**
 * Offsets already worked out, by wall-clock hour: formatToParts was still the costliest call of a
 * message's mapping (profiled). One hour always has one answer: the UK changes its clocks on the
 * hour, in wall-clock time as in UTC, and the answer does not depend on the minutes within.
 */
const offsetByHour = new Map<number, number>();
const OFFSETS_KEPT = 100_000;

/** The offset in minutes (0 or 60 in England) of a wall-clock hour; mo is 1–12. */
export function localOffsetMinutes(y: number, mo: number, d: number, h: number): number {
  const key = ((y * 13 + mo) * 32 + d) * 24 + h;
  let offset = offsetByHour.get(key);
  if (offset === undefined) {
    if (offsetByHour.size >= OFFSETS_KEPT) offsetByHour.clear();
    offset = computeOffsetMinutes(y, mo, d, h, 0);
    offsetByHour.set(key, offset);
  }
  return offset;
}

/** "+01:00" for 60 */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * The instant (epoch ms) of a wall-clock time in the region; monthIndex is 0–11 and may overflow,
 * as in Date.UTC ("the 32nd of January" is the 1st of February).
 */
export function localInstant(y: number, monthIndex: number, day: number, h = 0, mi = 0, s = 0): number {
  const wall = utcInstant(y, monthIndex, day, h, mi, s);
  const t = new Date(wall);
  const offset = localOffsetMinutes(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours());
  return wall - offset * 60_000;
}

/** Date.UTC for any year from 0: Date.UTC reads the years 0–99 as 1900–1999. */
export function utcInstant(y: number, monthIndex: number, day: number, h = 0, mi = 0, s = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(y, monthIndex, day);
  d.setUTCHours(h, mi, s, 0);
  return d.getTime();
}
