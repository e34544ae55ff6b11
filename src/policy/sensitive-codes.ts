/**
 * The never-shared code lists: versioned configuration, not code. Reads our CSV format
 * (category,system,code,display,match), the flattened published CSVs (category,…,system|code_system,
 * code,display,…) and FHIR ValueSets (compose or expansion). Malformed codes are reported and
 * skipped, never silently half-matched.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { canonicalCode, canonicalSystem, ICD10, isWellFormedCode } from './code-systems.ts';
import { createHash } from 'node:crypto';

export interface SensitiveCode {
  category: string;
  system: string;
  code: string;
  match: 'exact' | 'prefix';
}

export interface CodeListLoad {
  codes: SensitiveCode[];
  /** "file:line: problem" for every row that was skipped */
  problems: string[];
  /** digest of the accepted codes: changes when the lists do */
  version: string;
}

function fromCsv(file: string, text: string, problems: string[]): SensitiveCode[] {
  let rows: string[][];
  try {
    rows = parseCsv(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (err) {
    problems.push(`${file}: not readable as CSV: ${(err as Error).message}`);
    return [];
  }
  const header = (rows[0] ?? []).map((h) => h.trim().toLowerCase());
  const col = (...names: string[]) => header.findIndex((h) => names.includes(h));
  const iCat = col('category');
  const iSys = col('system', 'code_system');
  const iCode = col('code');
  const iMatch = col('match');
  if (iCat < 0 || iSys < 0 || iCode < 0) {
    problems.push(`${file}:1: header must name category, system (or code_system) and code columns`);
    return [];
  }
  const out: SensitiveCode[] = [];
  for (let n = 1; n < rows.length; n++) {
    const cells = rows[n]!;
    const systemName = (cells[iSys] ?? '').trim();
    const system = canonicalSystem(systemName);
    const cell = (cells[iCode] ?? '').trim();
    // EMIS exports prefix each code with byte 0x05
    const raw = cell.startsWith('\u0005') ? cell.slice(1) : cell;
    const category = (cells[iCat] ?? '').trim();
    if (!category) problems.push(`${file}: row ${n + 1}: missing category`);
    else if (!system)
      problems.push(`${file}: row ${n + 1}: unknown code system "${systemName}" (use its URI)`);
    else if (!isWellFormedCode(system, canonicalCode(system, raw)))
      problems.push(`${file}: row ${n + 1}: code "${raw}" is not a valid ${system} code`);
    else {
      const code = canonicalCode(system, raw);
      const m = iMatch >= 0 ? cells[iMatch]?.trim() : undefined;
      out.push({
        category,
        system,
        code,
        match: m === 'prefix' || (m === undefined && system === ICD10) ? 'prefix' : 'exact',
      });
    }
  }
  return out;
}

interface ValueSetLike {
  resourceType?: string;
  name?: string;
  title?: string;
  compose?: { include?: { system?: string; concept?: { code?: string }[] }[] };
  expansion?: { contains?: { system?: string; code?: string }[] };
}

function fromValueSet(file: string, vs: ValueSetLike, problems: string[]): SensitiveCode[] {
  if (vs.resourceType !== 'ValueSet') {
    problems.push(`${file}: not a FHIR ValueSet`);
    return [];
  }
  const category = path
    .basename(file)
    .replace(/(_vs)?\.json$/i, '')
    .toLowerCase();
  const pairs: { system: string; code: string }[] = [];
  for (const inc of vs.compose?.include ?? [])
    for (const c of inc.concept ?? []) pairs.push({ system: inc.system ?? '', code: c.code ?? '' });
  for (const c of vs.expansion?.contains ?? []) pairs.push({ system: c.system ?? '', code: c.code ?? '' });
  const out: SensitiveCode[] = [];
  pairs.forEach((p, i) => {
    const system = canonicalSystem(p.system);
    if (!system) {
      problems.push(`${file}: concept ${i + 1}: unknown code system "${p.system}"`);
      return;
    }
    const code = canonicalCode(system, p.code);
    if (!isWellFormedCode(system, code))
      problems.push(`${file}: concept ${i + 1}: code "${p.code}" is not a valid ${system} code`);
    else out.push({ category, system, code, match: 'exact' });
  });
  return out;
}

export function loadSensitiveCodeLists(files: string[]): CodeListLoad {
  const problems: string[] = [];
  const codes: SensitiveCode[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read sensitive code list ${file}: ${(err as Error).message}`);
    }
    codes.push(
      ...(/\.json$/i.test(file)
        ? fromValueSet(file, JSON.parse(text) as ValueSetLike, problems)
        : fromCsv(file, text, problems)),
    );
  }
  const seen = new Set<string>();
  const unique = codes.filter((c) => {
    const key = `${c.category}|${c.system}|${c.code}|${c.match}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const version = createHash('sha256')
    .update(
      unique
        .map((c) => `${c.category}|${c.system}|${c.code}|${c.match}`)
        .sort()
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 16);
  return { codes: unique, problems, version };
}
