/**
 * Reads the project's sensitive-code list (config/sensitive-codes.csv) so that the generator plants
 * exactly the codes the product is meant to recognise. Read once, at generation time.
 */
import { readFileSync } from 'node:fs';

export interface SensitiveCode {
  category: string;
  system: string;
  code: string;
  display: string;
  match: string;
}

const CSV_URL = new URL('../../config/sensitive-codes.csv', import.meta.url);

let cached: readonly SensitiveCode[] | undefined;

/** Splits one CSV line, honouring double-quoted fields. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

export function parseSensitiveCodes(csv: string): SensitiveCode[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  const col = (name: string): number => header.indexOf(name);
  const [cat, sys, code, display, match] = ['category', 'system', 'code', 'display', 'match'].map(col);
  return lines.slice(1).map((line) => {
    const f = splitCsvLine(line);
    const at = (i: number | undefined): string => (i === undefined || i < 0 ? '' : (f[i] ?? '').trim());
    return { category: at(cat), system: at(sys), code: at(code), display: at(display), match: at(match) };
  });
}

export function loadSensitiveCodes(): readonly SensitiveCode[] {
  cached ??= parseSensitiveCodes(readFileSync(CSV_URL, 'utf8'));
  return cached;
}
