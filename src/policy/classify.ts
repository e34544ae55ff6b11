/**
 * Labels an item with the never-shared categories it reveals, from its codes and from the security
 * labels its source put on it. Run at ingest (labels are stored beside the item so the read filter
 * is plain SQL) and again over the whole store whenever the code lists change.
 */
import { canonicalCode, canonicalSystem, ICD10, ODS } from './code-systems.ts';
import type { SensitiveCode } from './sensitive-codes.ts';

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** Source-supplied labels that withhold an item, and the category each stands for. */
const SECURITY_LABELS: Record<string, string> = {
  [`${CONFIDENTIALITY}|R`]: 'restricted',
  [`${CONFIDENTIALITY}|V`]: 'very_restricted',
  [`${ACT_CODE}|HIV`]: 'hiv_aids',
  [`${ACT_CODE}|STD`]: 'sexually_transmitted_disease',
  [`${ACT_CODE}|SEX`]: 'sexual_health',
  [`${ACT_CODE}|ETH`]: 'substance_misuse',
};

/**
 * The categories an item reveals. `sourceOrg` is the ODS code of the organisation that sent it: a
 * code list row for an organisation (system ODS) withholds everything that organisation sends, as
 * well as any item that names it (a referral to it, a letter from it).
 */
export type Classifier = (codes: string[], security: string[], sourceOrg?: string) => string[];

export function buildClassifier(list: SensitiveCode[]): Classifier {
  // A code may be on several lists (HIV is also a sexually transmitted disease): keep every category.
  const exact = new Map<string, string[]>();
  const prefixes = new Map<string, string[]>();
  let longestPrefix = 0;
  for (const c of list) {
    const key = `${c.system}|${c.code}`;
    const into = c.match === 'prefix' ? prefixes : exact;
    if (c.match === 'prefix') longestPrefix = Math.max(longestPrefix, c.code.length);
    const cats = into.get(key);
    if (!cats) into.set(key, [c.category]);
    else if (!cats.includes(c.category)) cats.push(c.category);
  }
  return (codes, security, sourceOrg) => {
    const found = new Set<string>();
    if (sourceOrg) for (const hit of exact.get(`${ODS}|${sourceOrg}`) ?? []) found.add(hit);
    for (const raw of codes) {
      const bar = raw.indexOf('|');
      // items use the same aliases as the lists (ICD-10-UK is ICD-10)
      const system = canonicalSystem(raw.slice(0, bar)) ?? raw.slice(0, bar);
      const code = canonicalCode(system, raw.slice(bar + 1));
      for (const hit of exact.get(`${system}|${code}`) ?? []) found.add(hit);
      if (system === ICD10 || prefixes.size > 0) {
        for (let len = Math.min(code.length, longestPrefix); len >= 1; len--) {
          for (const p of prefixes.get(`${system}|${code.slice(0, len)}`) ?? []) found.add(p);
        }
      }
    }
    for (const label of security) {
      const category = SECURITY_LABELS[label];
      if (category) found.add(category);
    }
    return [...found].sort();
  };
}
