/**
 * From a query string to a search: each parameter checked against the type's table
 * (definitions.ts). A value that is wrong is always refused (400). A parameter this server does
 * not know is refused under `Prefer: handling=strict` and otherwise left out and reported
 * (lenient, FHIR's default), and the self link then shows what was applied.
 */
import { SharedcareError, type Problem } from '../../errors/index.ts';
import { parseDateValue, type DateValue } from './dates.ts';
import {
  includesOf,
  MAX_COUNT,
  searchParamsOf,
  SORT_KEYS,
  type IncludeDef,
  type SearchParamDef,
} from './definitions.ts';
import { parseToken, type TokenValue } from './tokens.ts';

export type Filter =
  | { name: string; type: 'date'; paths: string[]; values: DateValue[] }
  | { name: string; type: 'token'; paths: string[]; values: TokenValue[] }
  | { name: string; type: 'uri'; paths: string[]; values: string[] };

export interface SortKey {
  key: (typeof SORT_KEYS)[number];
  descending: boolean;
}

export interface ParsedSearch {
  /** the patient parameter's value as given ("Patient/{id}" or "{id}") */
  patient: string | undefined;
  filters: Filter[];
  sort: SortKey[];
  /** page size; undefined: every match in one page */
  count: number | undefined;
  offset: number;
  include: IncludeDef[];
  /** parameters left out (lenient handling), by name */
  ignored: string[];
  /** the parameters applied, as name/value pairs, for the paging links */
  applied: [string, string][];
}

export type Query = Record<string, string | string[] | undefined>;

/** Each value a parameter was given (a repeated parameter is an array). */
export function valuesOf(query: Query, name: string): string[] {
  const v = query[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function problem(name: string, message: string): Problem {
  return { message, expression: name };
}

export function refuse(problems: Problem[]): never {
  throw new SharedcareError(
    'invalid-request',
    problems.length === 1 ? problems[0]!.message : 'the search has invalid parameters',
    problems,
  );
}

export function parseCount(value: string, name = '_count'): number | Problem {
  if (!/^\d{1,7}$/.test(value) || Number(value) > MAX_COUNT)
    return problem(name, `${name} must be a whole number from 0 to ${MAX_COUNT}`);
  return Number(value);
}

export function parseOffset(value: string): number | Problem {
  if (!/^\d{1,9}$/.test(value)) return problem('_offset', '_offset must be a whole number');
  return Number(value);
}

function parseFilter(def: SearchParamDef, raw: string): Filter | Problem {
  const parts = raw.split(',');
  switch (def.type) {
    case 'date': {
      const values = parts.map(parseDateValue);
      const bad = parts.find((_, i) => !values[i]);
      if (bad !== undefined)
        return problem(
          def.name,
          `${def.name} "${bad}" is not a FHIR date search value (a date, optionally prefixed eq ne lt gt le ge sa eb ap)`,
        );
      return { name: def.name, type: 'date', paths: def.paths, values: values as DateValue[] };
    }
    case 'token': {
      const values = parts.map(parseToken);
      if (values.some((v) => !v)) return problem(def.name, `${def.name} needs a code (system|code or code)`);
      return { name: def.name, type: 'token', paths: def.paths, values: values as TokenValue[] };
    }
    case 'uri':
      if (parts.some((p) => p === '')) return problem(def.name, `${def.name} needs a URI`);
      return { name: def.name, type: 'uri', paths: def.paths, values: parts };
    case 'reference':
      return problem(def.name, `${def.name} is not a filter`);
  }
}

function parseSort(raw: string): SortKey[] | Problem {
  const keys: SortKey[] = [];
  for (const part of raw.split(',')) {
    const descending = part.startsWith('-');
    const key = descending ? part.slice(1) : part;
    if (!(SORT_KEYS as readonly string[]).includes(key))
      return problem('_sort', `_sort may name ${SORT_KEYS.join(' or ')} (with "-" for newest first)`);
    keys.push({ key: key as SortKey['key'], descending });
  }
  return keys;
}

function parseInclude(type: string, raw: string): IncludeDef[] | Problem {
  const all = includesOf(type);
  if (raw === '*') return all;
  const [source, name, target] = raw.split(':');
  const def = source === type ? all.find((d) => d.name === name) : undefined;
  const known = all.map((d) => `${type}:${d.name}`).join(', ');
  if (!def || (target !== undefined && !(def.targets as string[]).includes(target)))
    return problem(
      '_include',
      `_include "${raw}" is not supported here${known ? ` (supported: ${known})` : ''}`,
    );
  return [target ? { ...def, targets: [target as IncludeDef['targets'][number]] } : def];
}

/**
 * A search of one type for one patient. `strict` refuses parameters this server does not know;
 * otherwise they are left out and named in `ignored`.
 */
export function parseSearch(type: string, query: Query, strict: boolean): ParsedSearch {
  const defs = new Map(searchParamsOf(type).map((d) => [d.name, d]));
  const out: ParsedSearch = {
    patient: undefined,
    filters: [],
    sort: [],
    count: undefined,
    offset: 0,
    include: [],
    ignored: [],
    applied: [],
  };
  const problems: Problem[] = [];
  const take = <T>(name: string, raw: string, r: T | Problem, use: (v: T) => void): void => {
    if (r !== null && typeof r === 'object' && 'message' in r) problems.push(r);
    else {
      use(r as T);
      out.applied.push([name, raw]);
    }
  };
  for (const name of Object.keys(query)) {
    for (const raw of valuesOf(query, name)) {
      const [base, modifier] = name.split(':', 2);
      if (modifier !== undefined && defs.has(base!)) {
        // FHIR: a server SHALL reject a modifier it does not support, whatever the handling
        problems.push(problem(name, `the modifier :${modifier} is not supported on ${base}`));
        continue;
      }
      const def = defs.get(name);
      if (def?.type === 'reference') {
        if (out.patient !== undefined) problems.push(problem(name, 'give the patient once'));
        out.patient = raw;
        out.applied.push([name, raw]);
      } else if (def) take(name, raw, parseFilter(def, raw), (f) => out.filters.push(f));
      else if (name === '_count') take(name, raw, parseCount(raw), (n) => (out.count = n));
      else if (name === '_offset') take(name, raw, parseOffset(raw), (n) => (out.offset = n));
      else if (name === '_sort') take(name, raw, parseSort(raw), (s) => out.sort.push(...s));
      else if (name === '_include') take(name, raw, parseInclude(type, raw), (i) => out.include.push(...i));
      else if (name === '_format')
        continue; // format negotiation happened before the route (406)
      else unknown(name);
    }
  }
  function unknown(name: string): void {
    if (strict)
      problems.push(
        problem(
          name,
          `${name} is not a search parameter this server supports for ${type} (see /fhir/metadata)`,
        ),
      );
    else if (!out.ignored.includes(name)) out.ignored.push(name);
  }
  if (problems.length > 0) refuse(problems);
  return out;
}
