/**
 * Fellegi–Sunter scoring: each comparison's level adds log2(m/u) to the pair's match weight; the
 * total against two thresholds decides link, review or keep apart. Agreement on a name is weighed
 * by how common the name is in the region, when the rules ask for it and counts are known.
 */
import { alignNameOrder, COMPARATORS } from './comparators.ts';
import type { MatchFeatures } from './features.ts';
import type { MatchRules } from './rules.ts';

export type MatchDecision = 'link' | 'review' | 'apart';

/** The share of the region's records with this value of the field, when known. */
export type TermFrequency = (field: string, value: string) => number | undefined;

export interface MatchScore {
  weight: number;
  decision: MatchDecision;
  /** per comparison: its level (null when missing) and the weight it added */
  levels: { field: string; level: string | null; weight: number }[];
}

const MIN_TF = 1e-6;
const RANK: Record<MatchDecision, number> = { link: 2, review: 1, apart: 0 };

function termValue(field: string, f: MatchFeatures): string {
  if (field === 'family') return f.family.join(' ');
  if (field === 'given') return f.given[0] ?? '';
  return '';
}

export function scorePair(
  rules: MatchRules,
  a: MatchFeatures,
  b0: MatchFeatures,
  tf?: TermFrequency,
): MatchScore {
  const b = alignNameOrder(a, b0);
  let weight = 0;
  let cap: MatchDecision = 'link';
  const levels: MatchScore['levels'] = [];
  for (const c of rules.comparisons) {
    let level = COMPARATORS[c.comparator]!.compare(a, b, c.similarity);
    if (level === null && c.missing === 'disagree') level = c.levels.at(-1)!.level;
    if (level === null) {
      levels.push({ field: c.field, level, weight: 0 });
      continue;
    }
    const l = c.levels.find((x) => x.level === level)!;
    let u = l.u;
    if (c.termFrequency && level === c.levels[0]!.level && tf) {
      const share = tf(c.field, termValue(c.field, a));
      if (share !== undefined) u = Math.max(share, MIN_TF);
    }
    const w = Math.log2(l.m / u);
    weight += w;
    levels.push({ field: c.field, level, weight: w });
    const capped = c.caps.find((x) => x.level === level)?.decision;
    if (capped && RANK[capped] < RANK[cap]) cap = capped;
  }
  let decision: MatchDecision =
    weight >= rules.thresholds.link ? 'link' : weight >= rules.thresholds.review ? 'review' : 'apart';
  if (RANK[cap] < RANK[decision]) decision = cap;
  return { weight, decision, levels };
}
