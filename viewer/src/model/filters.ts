/** Per-section filters: by source organisation, date range and status. */
import type { Item } from './item.ts';

export interface FilterState {
  source: string;
  /** yyyy-mm-dd, inclusive */
  from: string;
  to: string;
  status: string;
}

export const NO_FILTERS: FilterState = { source: '', from: '', to: '', status: '' };

export function isFiltered(f: FilterState): boolean {
  return !!(f.source || f.from || f.to || f.status);
}

export function applyFilters<T extends Item>(items: T[], f: FilterState): T[] {
  if (!isFiltered(f)) return items;
  const from = f.from ? Date.parse(`${f.from}T00:00:00Z`) : undefined;
  const to = f.to ? Date.parse(`${f.to}T23:59:59.999Z`) : undefined;
  return items.filter(
    (i) =>
      (!f.source || i.prov.ods === f.source) &&
      (!f.status || i.status === f.status) &&
      (from === undefined || (i.at !== undefined && i.at >= from)) &&
      (to === undefined || (i.at !== undefined && i.at <= to)),
  );
}

export function filterOptions(items: Item[]): {
  sources: { ods: string; name: string }[];
  statuses: string[];
} {
  const sources = new Map<string, string>();
  const statuses = new Set<string>();
  for (const i of items) {
    sources.set(i.prov.ods, i.prov.orgName);
    if (i.status) statuses.add(i.status);
  }
  return {
    sources: [...sources].map(([ods, name]) => ({ ods, name })).sort((a, b) => a.name.localeCompare(b.name)),
    statuses: [...statuses].sort(),
  };
}

/**
 * A date as a clinician in the UK types it, whatever the browser's locale: day/month/year
 * ("1/6/2023", "01/06/2023", "01-06-2023", "01.06.2023"), or ISO "2023-06-01". Returns
 * yyyy-mm-dd, '' for an empty entry, or undefined when it is not a real date.
 */
export function parseUkDate(text: string): string | undefined {
  const t = text.trim();
  if (!t) return '';
  const uk = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t);
  const iso8601 = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  const [d, mo, y] = uk ? [uk[1], uk[2], uk[3]] : iso8601 ? [iso8601[3], iso8601[2], iso8601[1]] : [];
  if (!d || !mo || !y) return undefined;
  const iso = `${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(iso) ? iso : undefined;
}

/** yyyy-mm-dd → dd/mm/yyyy ('' stays ''). */
export function toUkDate(iso: string): string {
  return iso ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : '';
}
