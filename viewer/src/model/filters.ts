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
