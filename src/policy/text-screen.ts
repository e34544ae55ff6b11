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
  /** "term", "abbreviation" (an exact-case term) or "medicine" */
  rule: 'term' | 'abbreviation' | 'medicine';
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

const NEGATION_AFTER =
  /^[\s:=-]*(?:test\s+|screen\s+|result\s+|antibody\s+|ab\s+)?(?:is\s+|was\s+)?(?:negative|not detected|non-?reactive)\b/i;
const NEGATION_BEFORE = /\b(?:negative for|no evidence of|not detected:?)\s*$/i;

interface Compiled {
  category: string;
  terms?: RegExp;
  exact?: RegExp;
  medicines?: RegExp;
  except?: RegExp;
  context?: RegExp;
  negatable: Set<string>;
}

export function buildTextScreen(list: TermList, opts: { showNegativeScreening?: boolean } = {}): TextScreen {
  const compiled: Compiled[] = Object.entries(list.categories).map(([category, c]) => ({
    category,
    terms: wordsRegex(c.terms, 'gi'),
    exact: wordsRegex(c.exactCase, 'g'),
    medicines: wordsRegex(c.medicines, 'gi'),
    except: wordsRegex(c.except, 'gi'),
    context: wordsRegex(c.context, 'i'),
    negatable: new Set(c.negatable.map((t) => t.toLowerCase())),
  }));
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

  function screenOne(c: Compiled, text: string, out: TextMatch[]): void {
    const spans: [number, number][] = [];
    if (c.except) for (const m of text.matchAll(c.except)) spans.push([m.index, m.index + m[0].length]);
    const inException = (at: number) => spans.some(([s, e]) => at >= s && at < e);
    const scan = (re: RegExp | undefined, rule: TextMatch['rule']) => {
      if (!re) return;
      for (const m of text.matchAll(re)) {
        if (inException(m.index)) continue;
        if (
          rule !== 'medicine' &&
          opts.showNegativeScreening &&
          c.negatable.has(m[0].toLowerCase()) &&
          negated(text, m.index, m.index + m[0].length)
        )
          continue;
        out.push({ category: c.category, phrase: m[0], rule });
      }
    };
    scan(c.medicines, 'medicine');
    scan(c.terms, 'term');
    scan(c.exact, 'abbreviation');
  }

  return {
    version,
    screen(texts) {
      const out: TextMatch[] = [];
      for (const text of texts) for (const c of compiled) screenOne(c, text, out);
      return out;
    },
    inContext(category, texts) {
      const c = compiled.find((x) => x.category === category);
      return !!c?.context && texts.some((t) => c.context!.test(t));
    },
  };
}
