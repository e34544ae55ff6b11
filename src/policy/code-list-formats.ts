/**
 * The formats never-shared code lists are published in, each read into rows of (category, system,
 * code, match) with every malformed code reported by file and line and skipped:
 *
 * - CSV with a header naming category, system (or code_system) and code (our own format and the
 *   flattened published lists); `match` is exact, prefix or context;
 * - tab- or comma-separated code lists without those columns (research code lists: `code,term`,
 *   `hiv.ctv3.txt`), given the category and system by the caller or by the file's name;
 * - FHIR ValueSets (compose.include concepts and expansion.contains);
 * - RF2 simple refset files (referencedComponentId column; the refset's members are SNOMED CT);
 * - SNOMED CT hierarchy: `ancestor,descendant` CSV or an RF2 relationship file (is-a rows), used to
 *   withhold the descendants of listed concepts.
 */
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { canonicalCode, canonicalSystem, ICD10, isWellFormedCode, SNOMED } from './code-systems.ts';

export interface SensitiveCode {
  category: string;
  system: string;
  code: string;
  /** exact; prefix (ICD-10, OPCS-4, Read, ATC chapters); context (only with the category's words) */
  match: 'exact' | 'prefix' | 'context';
}

export interface ListMeta {
  name?: string;
  version?: string;
  date?: string;
}

export interface ParsedList {
  codes: SensitiveCode[];
  /** SNOMED CT is-a edges: [ancestor, descendant] */
  edges: [string, string][];
  meta: ListMeta;
}

/** What the caller knows that a file may not say (`codes import --category … --system …`). */
export interface ListDefaults {
  category?: string;
  system?: string;
}

const IS_A = '116680003';
/** Systems named in research code-list file names (hiv.ctv3.txt, x.snomed.txt). */
const SYSTEM_IN_NAME: Record<string, string> = {
  snomed: SNOMED,
  ctv3: 'ctv3',
  readv2: 'read v2',
  icd10: 'icd-10',
  emis: 'emis',
  opcs4: 'opcs-4',
  loinc: 'loinc',
};

function fromName(file: string): ListDefaults {
  const base = path.basename(file).toLowerCase();
  const sys = Object.keys(SYSTEM_IN_NAME).find((k) => base.includes(`.${k}.`) || base.includes(`-${k}.`));
  return {
    ...(sys ? { system: SYSTEM_IN_NAME[sys] } : {}),
    category: path.basename(path.dirname(file)).toLowerCase().replace(/-/g, '_'),
  };
}

function accept(
  out: SensitiveCode[],
  problems: string[],
  where: string,
  row: { category: string; systemName: string; raw: string; match?: string },
): void {
  const system = canonicalSystem(row.systemName);
  // EMIS exports prefix each code with byte 0x05
  const raw = row.raw.startsWith('\u0005') ? row.raw.slice(1) : row.raw;
  if (!row.category) return void problems.push(`${where}: missing category`);
  if (!system) return void problems.push(`${where}: unknown code system "${row.systemName}" (use its URI)`);
  const code = canonicalCode(system, raw);
  if (!isWellFormedCode(system, code))
    return void problems.push(`${where}: code "${raw}" is not a valid ${system} code`);
  const m = row.match?.trim();
  const match =
    m === 'prefix' || m === 'context' ? m : m === undefined && system === ICD10 ? 'prefix' : 'exact';
  out.push({ category: row.category, system, code, match });
}

export function fromDelimited(
  file: string,
  text: string,
  problems: string[],
  defaults: ListDefaults = {},
): ParsedList {
  const delimiter = text.split('\n', 1)[0]!.includes('\t') ? '\t' : ',';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, {
      bom: true,
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      info: true,
    }) as never;
  } catch (err) {
    problems.push(`${file}: not readable as CSV: ${(err as Error).message}`);
    return { codes: [], edges: [], meta: {} };
  }
  const header = (records[0]?.record ?? []).map((h) => h.trim().toLowerCase());
  const col = (...names: string[]) => header.findIndex((h) => names.includes(h));
  const edges: [string, string][] = [];
  const codes: SensitiveCode[] = [];
  // SNOMED CT hierarchy: ancestor,descendant or RF2 relationships
  if (col('ancestor') >= 0 && col('descendant') >= 0) {
    for (const { record } of records.slice(1))
      edges.push([record[col('ancestor')]!, record[col('descendant')]!]);
    return { codes, edges, meta: {} };
  }
  if (col('sourceid') >= 0 && col('destinationid') >= 0 && col('typeid') >= 0) {
    for (const { record } of records.slice(1))
      if (record[col('typeid')] === IS_A && record[col('active')] !== '0')
        edges.push([record[col('destinationid')]!, record[col('sourceid')]!]);
    return { codes, edges, meta: {} };
  }
  const named = { ...fromName(file), ...defaults };
  const iRefComponent = col('referencedcomponentid');
  const iCat = col('category');
  const iSys = col('system', 'code_system');
  const iCode = iRefComponent >= 0 ? iRefComponent : col('code', 'id', 'ctv3id', 'conceptid');
  const iMatch = col('match');
  const iActive = iRefComponent >= 0 ? col('active') : -1;
  const headed = iCode >= 0;
  const first = headed ? 1 : 0;
  const systemOf = (cells: string[]) =>
    iRefComponent >= 0 ? SNOMED : iSys >= 0 ? (cells[iSys] ?? '').trim() : (named.system ?? '');
  const categoryOf = (cells: string[]) =>
    iCat >= 0 ? (cells[iCat] ?? '').trim() : (defaults.category ?? named.category ?? '');
  if (!headed && !named.system) {
    problems.push(
      `${file}:1: header must name a code column (and category and system, or give them on import)`,
    );
    return { codes, edges, meta: {} };
  }
  for (let n = first; n < records.length; n++) {
    const { record: cells, info } = records[n]!;
    if (iActive >= 0 && cells[iActive] === '0') continue;
    if (headed && header.length > 1 && cells.length > header.length) {
      problems.push(
        `${file}: row ${info.lines}: more fields than the header names (quote a field that holds a comma)`,
      );
      continue;
    }
    accept(codes, problems, `${file}: row ${info.lines}`, {
      category: categoryOf(cells),
      systemName: systemOf(cells),
      raw: (cells[headed ? iCode : 0] ?? '').trim(),
      ...(iMatch >= 0 && cells[iMatch] !== undefined ? { match: cells[iMatch] } : {}),
    });
  }
  return { codes, edges, meta: {} };
}

interface ValueSetLike {
  resourceType?: string;
  name?: string;
  title?: string;
  version?: string;
  date?: string;
  compose?: { include?: { system?: string; concept?: { code?: string }[] }[] };
  expansion?: { timestamp?: string; contains?: { system?: string; code?: string }[] };
}

export function fromValueSet(
  file: string,
  vs: ValueSetLike,
  problems: string[],
  defaults: ListDefaults = {},
): ParsedList {
  if (vs.resourceType !== 'ValueSet') {
    problems.push(`${file}: not a FHIR ValueSet`);
    return { codes: [], edges: [], meta: {} };
  }
  const category =
    defaults.category ??
    path
      .basename(file)
      .replace(/(_vs)?\.json$/i, '')
      .toLowerCase();
  const pairs: { system: string; code: string }[] = [];
  for (const inc of vs.compose?.include ?? [])
    for (const c of inc.concept ?? []) pairs.push({ system: inc.system ?? '', code: c.code ?? '' });
  for (const c of vs.expansion?.contains ?? []) pairs.push({ system: c.system ?? '', code: c.code ?? '' });
  const codes: SensitiveCode[] = [];
  pairs.forEach((p, i) =>
    accept(codes, problems, `${file}: concept ${i + 1}`, { category, systemName: p.system, raw: p.code }),
  );
  const meta: ListMeta = {
    ...(vs.name || vs.title ? { name: vs.name ?? vs.title } : {}),
    ...(vs.version ? { version: vs.version } : {}),
    ...(vs.date || vs.expansion?.timestamp ? { date: vs.date ?? vs.expansion?.timestamp } : {}),
  };
  return { codes, edges: [], meta };
}

/** Reads one file's text in whichever format it is. */
export function parseCodeList(
  file: string,
  text: string,
  problems: string[],
  defaults: ListDefaults = {},
): ParsedList {
  if (/\.json$/i.test(file) || text.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      problems.push(`${file}: not valid JSON: ${(err as Error).message}`);
      return { codes: [], edges: [], meta: {} };
    }
    return fromValueSet(file, json as ValueSetLike, problems, defaults);
  }
  return fromDelimited(file, text, problems, defaults);
}

/** Adds the listed SNOMED CT concepts' descendants (transitively) under the same category. */
export function withDescendants(codes: SensitiveCode[], edges: [string, string][]): SensitiveCode[] {
  if (edges.length === 0) return codes;
  const children = new Map<string, string[]>();
  for (const [a, d] of edges) children.set(a, [...(children.get(a) ?? []), d]);
  const out = [...codes];
  for (const c of codes) {
    if (c.system !== SNOMED || c.match !== 'exact') continue;
    const seen = new Set([c.code]);
    const queue = [...(children.get(c.code) ?? [])];
    while (queue.length > 0) {
      const d = queue.pop()!;
      if (seen.has(d)) continue;
      seen.add(d);
      out.push({ ...c, code: d });
      queue.push(...(children.get(d) ?? []));
    }
  }
  return out;
}
