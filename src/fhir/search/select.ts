/**
 * Applying a parsed search to a person's items: the filters (all must hold; within one, any value),
 * the sort, and the page. Items arrive in the store's order (newest first, then by id), which is
 * also the tie-break of every sort, so that paging over an unchanged record is stable: each item is
 * on exactly one page.
 */
import { dateMatches, elementRange, type Range } from './dates.ts';
import { allValuesAt, firstValuesAt } from './elements.ts';
import type { Filter, SortKey } from './parse.ts';
import { tokenMatches } from './tokens.ts';

function rangesAt(resource: unknown, paths: string[]): Range[] {
  return firstValuesAt(resource, paths)
    .map(elementRange)
    .filter((r): r is Range => r !== undefined);
}

export function filterMatches(f: Filter, resource: unknown, now: Date): boolean {
  switch (f.type) {
    case 'date': {
      const ranges = rangesAt(resource, f.paths);
      return ranges.some((r) => f.values.some((v) => dateMatches(v, r, now)));
    }
    case 'token':
      return f.values.some((v) => tokenMatches(v, allValuesAt(resource, f.paths)));
    case 'uri': {
      const values = allValuesAt(resource, f.paths);
      return f.values.some((v) => values.includes(v));
    }
  }
}

const DATE_PATHS: Record<SortKey['key'], (dates: string[]) => string[]> = {
  date: (dates) => dates,
  _lastUpdated: () => ['meta.lastUpdated'],
};

export interface Candidate<T> {
  item: T;
  resource: unknown;
}

/**
 * The matches, sorted, and the page asked for. `datePaths` are the type's date elements (what
 * `date` sorts by); items without the date sort last either way.
 */
export function selectPage<T>(
  candidates: Candidate<T>[],
  search: { filters: Filter[]; sort: SortKey[]; count: number | undefined; offset: number },
  datePaths: (resourceType: string) => string[],
  now: Date,
): { page: Candidate<T>[]; total: number } {
  let matched = candidates.filter((c) => search.filters.every((f) => filterMatches(f, c.resource, now)));
  if (search.sort.length > 0) {
    const keyed = matched.map((c, order) => ({
      c,
      order,
      keys: search.sort.map((s) => {
        const type = (c.resource as { resourceType?: string }).resourceType ?? '';
        return rangesAt(c.resource, DATE_PATHS[s.key](datePaths(type)))[0]?.lo;
      }),
    }));
    keyed.sort((a, b) => {
      for (let i = 0; i < search.sort.length; i++) {
        const x = a.keys[i];
        const y = b.keys[i];
        if (x === y) continue;
        if (x === undefined) return 1;
        if (y === undefined) return -1;
        return search.sort[i]!.descending ? y - x : x - y;
      }
      return a.order - b.order;
    });
    matched = keyed.map((k) => k.c);
  }
  const end = search.count === undefined ? undefined : search.offset + search.count;
  return { page: matched.slice(search.offset, end), total: matched.length };
}

/**
 * What the store can narrow a search by before the filters run here: the "system|code"s of one
 * token filter on coded elements whose every value names both a system and a code. The store keeps
 * every system|code anywhere in an item (the `codes` column, src/fhir/codes.ts), so the items it
 * returns for these are a superset of those the filter matches; the filter still decides. Values
 * without a system ("code", "|code"), a whole system ("system|") and meta elements (_tag: the
 * column leaves meta out) cannot be narrowed by it. Undefined: nothing to narrow by.
 */
export function storeCodesOf(filters: Filter[]): string[] | undefined {
  for (const f of filters) {
    if (f.type !== 'token' || f.paths.some((p) => p.startsWith('meta.'))) continue;
    if (f.values.every((v) => v.system && v.code !== undefined))
      return f.values.map((v) => `${v.system}|${v.code}`);
  }
  return undefined;
}
