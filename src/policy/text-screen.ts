/**
 * The free-text screen: finds never-shared topics in an item's words (titles, descriptions, notes,
 * the text and display of codeable concepts, narrative, and attached plain-text documents), from a
 * versioned term list per category (config/sensitive-terms.yaml). Whole words only, so "archive"
 * is not "HIV"; listed exceptions ("spontaneous abortion") do not count; a negation in the same
 * clause ("HIV negative") clears a negatable term only where the region shows negative screening.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const categorySchema = z
  .object({
    terms: z.array(z.string().min(1)).default([]),
    exactCase: z.array(z.string().min(1)).default([]),
    except: z.array(z.string().min(1)).default([]),
    negatable: z.array(z.string().min(1)).default([]),
    medicines: z.array(z.string().min(1)).default([]),
    context: z.array(z.string().min(1)).default([]),
  })
  .strict();
const listSchema = z
  .object({ version: z.union([z.string(), z.number()]), categories: z.record(z.string(), categorySchema) })
  .strict();
export type TermList = z.infer<typeof listSchema>;

/** One thing the screen found: why an item is withheld, for the review queue (never for readers). */
export interface TextMatch {
  category: string;
  /** the words as they stand in the item */
  phrase: string;
  /** "term", "abbreviation" (an exact-case term), "medicine", or "unreadable" (an attached document
   * that could not be read: the phrase says why) */
  rule: 'term' | 'abbreviation' | 'medicine' | 'unreadable';
}

export interface TextScreen {
  version: string;
  /** every match in these texts, in order of appearance */
  screen(texts: string[]): TextMatch[];
  /** whether the texts put the item in this category's context (a context code's condition) */
  inContext(category: string, texts: string[]): boolean;
}

export function loadTermList(file: string): TermList {
  const parsed = listSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(
      `sensitive term list ${file} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** whole words: not preceded or followed by a letter or digit */
function wordsRegex(words: string[], flags: string): RegExp | undefined {
  if (words.length === 0) return undefined;
  const alternation = [...words]
    .sort((a, b) => b.length - a.length)
    .map(escape)
    .join('|');
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternation})(?![\\p{L}\\p{N}])`, `${flags}u`);
}

/**
 * Every match of a global regex, reusing the one compiled object: matchAll would clone it per call,
 * and V8 compiles each clone of these large case-insensitive Unicode patterns again (measured:
 * tens of milliseconds per item).
 */
function allMatches(re: RegExp, text: string): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m);
  return out;
}

const NEGATION_AFTER =
  /^[\s:=-]*(?:test\s+|screen\s+|result\s+|antibody\s+|ab\s+)?(?:is\s+|was\s+)?(?:negative|not detected|non-?reactive)\b/i;
const NEGATION_BEFORE = /\b(?:negative for|no evidence of|not detected:?)\s*$/i;

interface Rule {
  category: string;
  rule: TextMatch['rule'];
  negatable: boolean;
}

/** term (lower-cased unless exact-case) → the rules it stands for, in every category */
function index(entries: [string, Rule][], lower: boolean): Map<string, Rule[]> {
  const m = new Map<string, Rule[]>();
  for (const [term, rule] of entries) {
    const key = lower ? term.toLowerCase() : term;
    m.set(key, [...(m.get(key) ?? []), rule]);
  }
  return m;
}

/**
 * One regex for every case-insensitive term and medicine of every category, one for the exact-case
 * abbreviations, one for the exceptions: each text is scanned three times, whatever the number of
 * categories, and V8 compiles three patterns once.
 */
export function buildTextScreen(list: TermList, opts: { showNegativeScreening?: boolean } = {}): TextScreen {
  const cats = Object.entries(list.categories);
  const folded = index(
    cats.flatMap(([category, c]) => {
      const neg = new Set(c.negatable.map((t) => t.toLowerCase()));
      return [
        ...c.medicines.map((t): [string, Rule] => [t, { category, rule: 'medicine', negatable: false }]),
        ...c.terms.map((t): [string, Rule] => [
          t,
          { category, rule: 'term', negatable: neg.has(t.toLowerCase()) },
        ]),
      ];
    }),
    true,
  );
  const exact = index(
    cats.flatMap(([category, c]) => {
      const neg = new Set(c.negatable.map((t) => t.toLowerCase()));
      return c.exactCase.map((t): [string, Rule] => [
        t,
        { category, rule: 'abbreviation', negatable: neg.has(t.toLowerCase()) },
      ]);
    }),
    false,
  );
  const exceptions = index(
    cats.flatMap(([category, c]) =>
      c.except.map((t): [string, Rule] => [t, { category, rule: 'term', negatable: false }]),
    ),
    true,
  );
  const foldedRe = wordsRegex([...folded.keys()], 'gi');
  const exactRe = wordsRegex([...exact.keys()], 'g');
  const exceptRe = wordsRegex([...exceptions.keys()], 'gi');
  const context = new Map(cats.map(([category, c]) => [category, wordsRegex(c.context, 'i')]));
  const version = createHash('sha256')
    .update(JSON.stringify({ list, negative: opts.showNegativeScreening === true }))
    .digest('hex')
    .slice(0, 12);

  const negated = (text: string, at: number, end: number): boolean =>
    NEGATION_AFTER.test(text.slice(end, end + 40).split(/[.;,\n]/)[0] ?? '') ||
    NEGATION_BEFORE.test(
      text
        .slice(Math.max(0, at - 30), at)
        .split(/[.;\n]/)
        .pop() ?? '',
    );

  function screenOne(text: string, out: TextMatch[]): void {
    const spans = exceptRe
      ? allMatches(exceptRe, text).map((m) => ({
          from: m.index,
          to: m.index + m[0].length,
          cats: new Set((exceptions.get(m[0].toLowerCase()) ?? []).map((r) => r.category)),
        }))
      : [];
    const found: { at: number; phrase: string; rules: Rule[] }[] = [];
    if (foldedRe)
      for (const m of allMatches(foldedRe, text))
        found.push({ at: m.index, phrase: m[0], rules: folded.get(m[0].toLowerCase()) ?? [] });
    if (exactRe)
      for (const m of allMatches(exactRe, text))
        found.push({ at: m.index, phrase: m[0], rules: exact.get(m[0]) ?? [] });
    found.sort((x, y) => x.at - y.at);
    for (const f of found)
      for (const r of f.rules) {
        if (spans.some((s) => f.at >= s.from && f.at < s.to && s.cats.has(r.category))) continue;
        if (opts.showNegativeScreening && r.negatable && negated(text, f.at, f.at + f.phrase.length))
          continue;
        out.push({ category: r.category, phrase: f.phrase, rule: r.rule });
      }
  }

  return {
    version,
    screen(texts) {
      const out: TextMatch[] = [];
      for (const text of texts) screenOne(text, out);
      return out;
    },
    inContext(category, texts) {
      const re = context.get(category);
      return !!re && texts.some((t) => re.test(t));
    },
  };
}
