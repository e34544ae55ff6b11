/**
 * Labels an item with the never-shared categories it reveals: from its codes (in every system the
 * lists name, SNOMED CT descendants included), the security labels its source put on it, the
 * organisation that sent it, and its words (src/policy/text-screen.ts). Run at ingest (labels are
 * stored beside the item so the read filter is plain SQL) and again over the whole store whenever
 * the lists change.
 *
 * Labels: a category ("hiv_aids") withholds the item as sensitive; "review:<category>" withholds it
 * pending the information-governance team's review (the text screen found a topic, no code did).
 */
import { canonicalCode, canonicalSystem, ODS } from './code-systems.ts';
import { itemWords, type ItemWords } from './item-text.ts';
import type { SensitiveCode } from './sensitive-codes.ts';
import type { TextMatch, TextScreen } from './text-screen.ts';

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const REVIEW_PREFIX = 'review:';
/**
 * Bumped when the classifier reads an item differently (2: every attached document, a system
 * however spelt, a document's own security label): part of the policy's version, so the store
 * is relabelled at the next start.
 */
export const CLASSIFIER_VERSION = 'c2';
/** the review category of an item whose attached document could not be read */
export const UNREADABLE = 'unreadable_document';

/** Source-supplied labels that withhold an item, and the category each stands for. */
const SECURITY_LABELS: Record<string, string> = {
  [`${CONFIDENTIALITY}|R`]: 'restricted',
  [`${CONFIDENTIALITY}|V`]: 'very_restricted',
  [`${ACT_CODE}|HIV`]: 'hiv_aids',
  [`${ACT_CODE}|STD`]: 'sexually_transmitted_disease',
  [`${ACT_CODE}|SEX`]: 'sexual_health',
  [`${ACT_CODE}|ETH`]: 'substance_misuse',
};

/** The v3 systems under their older names (FHIR STU3's URIs, HL7's OIDs), as R4 names them. */
const LABEL_SYSTEMS: Record<string, string> = {
  'http://hl7.org/fhir/v3/confidentiality': CONFIDENTIALITY,
  'urn:oid:2.16.840.1.113883.5.25': CONFIDENTIALITY,
  'http://hl7.org/fhir/v3/actcode': ACT_CODE,
  'urn:oid:2.16.840.1.113883.5.4': ACT_CODE,
};

function labelKey(label: string): string {
  const bar = label.lastIndexOf('|');
  const system = label
    .slice(0, bar)
    .trim()
    .toLowerCase()
    .replace(/\/+$/, '')
    .replace(/^https:/, 'http:');
  const code = label
    .slice(bar + 1)
    .trim()
    .toUpperCase();
  const known = [CONFIDENTIALITY, ACT_CODE].find((s) => s.toLowerCase() === system);
  return `${LABEL_SYSTEMS[system] ?? known ?? system}|${code}`;
}

/**
 * The categories an item reveals. `sourceOrg` is the ODS code of the organisation that sent it: a
 * code list row for an organisation (system ODS) withholds everything that organisation sends, as
 * well as any item that names it (a referral to it, a letter from it). `resource`, when given, is
 * read by the text screen and decides context-dependent codes.
 */
export type Classifier = (
  codes: string[],
  security: string[],
  sourceOrg?: string,
  resource?: unknown,
) => string[];

type CodeIndex = Map<string, string[]>;

function add(into: CodeIndex, key: string, category: string): void {
  const cats = into.get(key);
  if (!cats) into.set(key, [category]);
  else if (!cats.includes(category)) cats.push(category);
}

export interface ClassifierParts {
  classify: Classifier;
  /** the text screen's findings that are not settled by a code: what the review queue shows */
  explain(resource: unknown): TextMatch[];
}

export function buildClassifier(list: SensitiveCode[], screen?: TextScreen): ClassifierParts {
  // A code may be on several lists (HIV is also a sexually transmitted disease): keep every category.
  const exact: CodeIndex = new Map();
  const prefixes: CodeIndex = new Map();
  const contextual: CodeIndex = new Map();
  let longestPrefix = 0;
  for (const c of list) {
    const key = `${c.system}|${c.code}`;
    if (c.match === 'prefix') longestPrefix = Math.max(longestPrefix, c.code.length);
    add(c.match === 'prefix' ? prefixes : c.match === 'context' ? contextual : exact, key, c.category);
  }
  const contextLength = Math.max(0, ...list.filter((c) => c.match === 'context').map((c) => c.code.length));

  const byCodes = (codes: string[], found: Set<string>, context: Set<string>): void => {
    for (const raw of codes) {
      const bar = raw.indexOf('|');
      // items use the same aliases as the lists (ICD-10-UK is ICD-10, dm+d is SNOMED CT)
      const system = canonicalSystem(raw.slice(0, bar)) ?? raw.slice(0, bar);
      const code = canonicalCode(system, raw.slice(bar + 1));
      for (const hit of exact.get(`${system}|${code}`) ?? []) found.add(hit);
      for (let len = Math.min(code.length, longestPrefix); len >= 1; len--)
        for (const p of prefixes.get(`${system}|${code.slice(0, len)}`) ?? []) found.add(p);
      for (let len = Math.min(code.length, contextLength); len >= 1; len--)
        for (const p of contextual.get(`${system}|${code.slice(0, len)}`) ?? []) context.add(p);
    }
  };

  const wordsOf = (resource: unknown): ItemWords =>
    resource === undefined ? { texts: [], unreadable: [] } : itemWords(resource);
  const unreadable = (words: ItemWords): TextMatch[] =>
    words.unreadable.map((phrase) => ({ category: UNREADABLE, phrase, rule: 'unreadable' }));

  const classify: Classifier = (codes, security, sourceOrg, resource) => {
    const found = new Set<string>();
    const context = new Set<string>();
    if (sourceOrg) for (const hit of exact.get(`${ODS}|${sourceOrg}`) ?? []) found.add(hit);
    byCodes(codes, found, context);
    for (const label of security) {
      const category = SECURITY_LABELS[label] ?? SECURITY_LABELS[labelKey(label)];
      if (category) found.add(category);
    }
    // A code settles it; only an item no code withholds is read for its words.
    if (found.size === 0 && screen && resource !== undefined) {
      const words = wordsOf(resource);
      for (const cat of context) if (screen.inContext(cat, words.texts)) found.add(cat);
      if (found.size === 0) {
        const review = new Set<string>();
        if (words.unreadable.length > 0) review.add(`${REVIEW_PREFIX}${UNREADABLE}`);
        for (const m of screen.screen(words.texts)) {
          if (m.rule === 'medicine') found.add(m.category);
          else review.add(`${REVIEW_PREFIX}${m.category}`);
        }
        if (found.size === 0) return [...review].sort();
      }
    }
    return [...found].sort();
  };

  return {
    classify,
    explain: (resource) => {
      if (!screen) return [];
      const words = wordsOf(resource);
      return [...unreadable(words), ...screen.screen(words.texts).filter((m) => m.rule !== 'medicine')];
    },
  };
}
