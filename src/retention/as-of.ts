/**
 * The date a run is "as of". A dry run may look at any date ("what would go on 1 January 2030?");
 * a real run may not be dated in the future, which would remove records before their time.
 */
import { SharedcareError } from '../errors/index.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** clocks differ a little between the CLI's machine and the server's */
const SKEW_MS = 5 * 60_000;

function invalid(message: string): SharedcareError {
  return new SharedcareError('invalid-request', message, [{ message, expression: 'asOf' }]);
}

/** Parses --as-of (a date, taken as its start in UTC, or an instant with a zone); undefined = now. */
export function parseAsOf(value: string | undefined, dryRun: boolean, now = new Date()): Date {
  if (value === undefined || value === '') return now;
  const v = value.trim();
  let t: Date | undefined;
  if (DATE.test(v)) {
    t = new Date(`${v}T00:00:00Z`);
    if (Number.isNaN(t.getTime()) || t.toISOString().slice(0, 10) !== v) t = undefined;
  } else if (INSTANT.test(v)) {
    t = new Date(v);
    if (Number.isNaN(t.getTime())) t = undefined;
  }
  if (!t)
    throw invalid(
      `--as-of must be a date (YYYY-MM-DD, e.g. 2030-01-31) or an instant with a time zone (2030-01-31T09:00:00Z); got "${value}"`,
    );
  const year = t.getUTCFullYear();
  if (year < 1900 || year > 2999) throw invalid(`--as-of must be a year from 1900 to 2999; got "${value}"`);
  if (!dryRun && t.getTime() > now.getTime() + SKEW_MS)
    throw invalid(
      '--as-of is in the future: a real run cannot remove records before their time. Add --dry-run to see what would go on that date.',
    );
  return t;
}
