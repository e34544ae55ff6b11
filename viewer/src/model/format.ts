/** Display formats used across the viewer (NHS conventions, en-GB, UK time). */
import type { CodeableConcept, Quantity } from '@medplum/fhirtypes';

const TZ = 'Europe/London';

/** 9991234567 → "999 123 4567" (NHS number 3-3-4). */
export function formatNhsNumber(nhs: string | undefined): string {
  const d = (nhs ?? '').replace(/\s/g, '');
  return /^\d{10}$/.test(d) ? `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}` : (nhs ?? '');
}

const dateFmt = new Intl.DateTimeFormat('en-GB', {
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  timeZone: TZ,
});
const timeFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: TZ });

/** FHIR date or dateTime → "15/04/2022" ("04/2022", "2022" for partial dates). */
export function formatDate(value: string | undefined): string {
  if (!value) return '';
  if (/^\d{4}$/.test(value)) return value;
  if (/^\d{4}-\d{2}$/.test(value)) return `${value.slice(5, 7)}/${value.slice(0, 4)}`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value))
    return `${value.slice(8, 10)}/${value.slice(5, 7)}/${value.slice(0, 4)}`;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : dateFmt.format(d);
}

/** dateTime → "15/04/2022 14:05" (a date-only value stays a date). */
export function formatDateTime(value: string | undefined): string {
  if (!value || value.length <= 10) return formatDate(value);
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : `${dateFmt.format(d)} ${timeFmt.format(d)}`;
}

/** Sortable instant for a FHIR date or dateTime (partial dates to their first moment). */
export function toInstant(value: string | undefined): number | undefined {
  if (!value) return undefined;
  let s = value;
  if (/^\d{4}$/.test(s)) s += '-01-01';
  else if (/^\d{4}-\d{2}$/.test(s)) s += '-01';
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  return Number.isNaN(t) ? undefined : t;
}

/** Age from a birth date: "82 years", "18 months", "3 weeks" (NHS banner style). */
export function formatAge(birthDate: string | undefined, now = new Date(), until?: string): string {
  const born = toInstant(birthDate);
  if (born === undefined) return '';
  const end = until ? (toInstant(until) ?? now.getTime()) : now.getTime();
  const b = new Date(born);
  const e = new Date(end);
  let years = e.getUTCFullYear() - b.getUTCFullYear();
  let months = e.getUTCMonth() - b.getUTCMonth();
  if (e.getUTCDate() < b.getUTCDate()) months--;
  if (months < 0) {
    years--;
    months += 12;
  }
  if (years >= 2) return `${years} years`;
  const totalMonths = years * 12 + months;
  if (totalMonths >= 1) return `${totalMonths} month${totalMonths === 1 ? '' : 's'}`;
  const weeks = Math.floor((end - born) / (7 * 86_400_000));
  return `${weeks} week${weeks === 1 ? '' : 's'}`;
}

export function conceptText(cc: CodeableConcept | undefined): string {
  if (!cc) return '';
  return cc.text ?? cc.coding?.find((c) => c.display)?.display ?? cc.coding?.[0]?.code ?? '';
}

/** A stable key for "the same thing": the first coding's system|code, else the lower-cased text. */
export function conceptKey(cc: CodeableConcept | undefined): string {
  const coding = cc?.coding?.find((c) => c.code);
  if (coding) return `${coding.system ?? ''}|${coding.code}`;
  return (cc?.text ?? '').trim().toLowerCase();
}

export function formatQuantity(q: Quantity | undefined): string {
  if (!q || q.value === undefined) return '';
  const unit = q.unit ?? q.code ?? '';
  return `${q.comparator ?? ''}${q.value}${unit ? ` ${unit}` : ''}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}

export function capitalise(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1).replace(/-/g, ' ') : s;
}
