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

interface CompiledLevel {
  m: number;
  /** log2(m/u) */
  weight: number;
  cap: MatchDecision | undefined;
}

/** A comparison with its levels' weights worked out once, not looked up for every pair. */
interface CompiledComparison {
  field: string;
  compare: (a: MatchFeatures, b: MatchFeatures, similarity: number) => string | null;
  similarity: number;
  missingLevel: string | null;
  termFrequencyLevel: string | null;
  levels: Map<string, CompiledLevel>;
}

/**
 * By rules object: rules are not changed once parsed (training writes a new object). At 1,000,000
 * persons a decision scores about 130 candidate records; looking the levels up, and log2, for each
 * pair was a sixth of its scoring time.
 */
const compiled = new WeakMap<MatchRules, CompiledComparison[]>();

function compile(rules: MatchRules): CompiledComparison[] {
  let out = compiled.get(rules);
  if (!out) {
    out = rules.comparisons.map((c) => ({
      field: c.field,
      compare: COMPARATORS[c.comparator]!.compare,
      similarity: c.similarity,
      missingLevel: c.missing === 'disagree' ? c.levels.at(-1)!.level : null,
      termFrequencyLevel: c.termFrequency ? c.levels[0]!.level : null,
      levels: new Map(
        c.levels.map((l) => [
          l.level,
          { m: l.m, weight: Math.log2(l.m / l.u), cap: c.caps.find((x) => x.level === l.level)?.decision },
        ]),
      ),
    }));
    compiled.set(rules, out);
  }
  return out;
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
  for (const c of compile(rules)) {
    const level = c.compare(a, b, c.similarity) ?? c.missingLevel;
    if (level === null) {
      levels.push({ field: c.field, level, weight: 0 });
      continue;
    }
    const l = c.levels.get(level)!;
    let w = l.weight;
    if (level === c.termFrequencyLevel && tf) {
      const share = tf(c.field, termValue(c.field, a));
      if (share !== undefined) w = Math.log2(l.m / Math.max(share, MIN_TF));
    }
    weight += w;
    levels.push({ field: c.field, level, weight: w });
    if (l.cap && RANK[l.cap] < RANK[cap]) cap = l.cap;
  }
  let decision: MatchDecision =
    weight >= rules.thresholds.link ? 'link' : weight >= rules.thresholds.review ? 'review' : 'apart';
  if (RANK[cap] < RANK[decision]) decision = cap;
  return { weight, decision, levels };
}
