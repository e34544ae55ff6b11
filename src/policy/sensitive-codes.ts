/**
 * The never-shared code lists: versioned configuration, not code. Reads every format that lists
 * are published in (src/policy/code-list-formats.ts); malformed codes are reported and skipped,
 * never silently half-matched. SNOMED CT hierarchy files given among the lists add the listed
 * concepts' descendants.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  parseCodeList,
  withDescendants,
  type ListDefaults,
  type ListMeta,
  type SensitiveCode,
} from './code-list-formats.ts';

export type { SensitiveCode } from './code-list-formats.ts';

export interface CodeListLoad {
  codes: SensitiveCode[];
  /** "file: row N: problem" for every row that was skipped */
  problems: string[];
  /** digest of the accepted codes: changes when the lists do */
  version: string;
  /** what each file says about itself (a ValueSet's name, version and date) */
  meta: ListMeta[];
  /** SNOMED CT is-a edges from hierarchy files among the lists */
  edges: [string, string][];
}

export function codesDigest(codes: SensitiveCode[]): string {
  return createHash('sha256')
    .update(
      codes
        .map((c) => `${c.category}|${c.system}|${c.code}|${c.match}`)
        .sort()
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 16);
}

export function uniqueCodes(codes: SensitiveCode[]): SensitiveCode[] {
  const seen = new Set<string>();
  return codes.filter((c) => {
    const key = `${c.category}|${c.system}|${c.code}|${c.match}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

export function readCodeListFile(
  file: string,
  problems: string[],
  defaults: ListDefaults = {},
): ReturnType<typeof parseCodeList> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read sensitive code list ${file}: ${(err as Error).message}`);
  }
  return parseCodeList(file, text, problems, defaults);
}

export function loadSensitiveCodeLists(files: string[]): CodeListLoad {
  const problems: string[] = [];
  const codes: SensitiveCode[] = [];
  const edges: [string, string][] = [];
  const meta: ListMeta[] = [];
  for (const file of files) {
    const parsed = readCodeListFile(file, problems);
    codes.push(...parsed.codes);
    edges.push(...parsed.edges);
    meta.push(parsed.meta);
  }
  const unique = uniqueCodes(withDescendants(codes, edges));
  return { codes: unique, problems, version: codesDigest(unique), meta, edges };
}
