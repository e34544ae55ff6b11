/**
 * Learning the rules' m and u from the region's own records, as Splink does: u from random pairs
 * (almost all of them different people), m by expectation-maximisation over the blocked pairs
 * (those sharing a birth date), with u held fixed. Also counts names for term-frequency weights,
 * and says how the new figures would change the decisions on the blocked pairs.
 */
import type { MatchFeatures } from './features.ts';
import type { MatchRules } from './rules.ts';
import { scorePair, type MatchDecision } from './score.ts';

export interface TrainingReport {
  rules: MatchRules;
  randomPairs: number;
  blockedPairs: number;
  matchShare: number;
  /** decisions on the blocked pairs, before → after */
  changes: Record<`${MatchDecision}->${MatchDecision}`, number>;
  termFrequencies: { field: string; value: string; share: number }[];
}

type Rng = () => number;

/** A small seeded generator, so that training is repeatable. */
export function seededRandom(seed: number): Rng {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const levelsOf = (rules: MatchRules, a: MatchFeatures, b: MatchFeatures) =>
  scorePair(rules, a, b).levels.map((l) => l.level);

/** Probability per level from counts, smoothed so that no level is 0 or 1. */
function probabilities(counts: number[]): number[] {
  const total = counts.reduce((s, n) => s + n, 0) + counts.length * 0.5;
  return counts.map((n) => Math.min(0.9999, Math.max(1e-6, (n + 0.5) / total)));
}

export function blockedPairs(records: MatchFeatures[], maxPerBlock = 50): [number, number][] {
  const byDob = new Map<string, number[]>();
  records.forEach((r, i) => r.birthDate && byDob.set(r.birthDate, [...(byDob.get(r.birthDate) ?? []), i]));
  const pairs: [number, number][] = [];
  for (const ids of byDob.values()) {
    const some = ids.slice(0, maxPerBlock);
    for (let i = 0; i < some.length; i++)
      for (let j = i + 1; j < some.length; j++) pairs.push([some[i]!, some[j]!]);
  }
  return pairs;
}

export function trainRules(
  current: MatchRules,
  records: MatchFeatures[],
  opts: { randomPairs?: number; iterations?: number; seed?: number } = {},
): TrainingReport {
  const rng = seededRandom(opts.seed ?? 13);
  const comps = current.comparisons;
  const index = (c: number, level: string | null) =>
    level === null ? -1 : comps[c]!.levels.findIndex((l) => l.level === level);
  // u: level frequencies among random pairs
  const uCounts = comps.map((c) => c.levels.map(() => 0));
  const n = records.length;
  const randomPairs = n < 2 ? 0 : (opts.randomPairs ?? 100_000);
  for (let k = 0; k < randomPairs; k++) {
    const a = Math.floor(rng() * n);
    const b = Math.floor(rng() * n);
    if (a === b) continue;
    levelsOf(current, records[a]!, records[b]!).forEach(
      (l, c) => index(c, l) >= 0 && uCounts[c]![index(c, l)]!++,
    );
  }
  const u = uCounts.map(probabilities);
  // m: EM over the blocked pairs
  const pairs = blockedPairs(records);
  const vectors = pairs.map(([a, b]) =>
    levelsOf(current, records[a]!, records[b]!).map((l, c) => index(c, l)),
  );
  let m = comps.map((c) => c.levels.map((l) => l.m));
  let lambda = 0.5;
  for (let it = 0; it < (opts.iterations ?? 20); it++) {
    const mCounts = comps.map((c) => c.levels.map(() => 0));
    let total = 0;
    for (const v of vectors) {
      let pm = lambda;
      let pu = 1 - lambda;
      v.forEach((li, c) => {
        if (li < 0) return;
        pm *= m[c]![li]!;
        pu *= u[c]![li]!;
      });
      const p = pm / (pm + pu);
      total += p;
      v.forEach((li, c) => li >= 0 && (mCounts[c]![li]! += p));
    }
    lambda = vectors.length ? Math.min(0.999, Math.max(0.001, total / vectors.length)) : lambda;
    m = mCounts.map(probabilities);
  }
  const rules: MatchRules = {
    ...current,
    version: current.version + 1,
    description: `Trained on ${n} source records (${randomPairs} random pairs for u, ${pairs.length} blocked pairs for m).`,
    comparisons: comps.map((c, ci) => ({
      ...c,
      levels: c.levels.map((l, li) => ({ level: l.level, m: round(m[ci]![li]!), u: round(u[ci]![li]!) })),
    })),
  };
  const changes = {} as TrainingReport['changes'];
  for (const [a, b] of pairs) {
    const key =
      `${scorePair(current, records[a]!, records[b]!).decision}->${scorePair(rules, records[a]!, records[b]!).decision}` as const;
    changes[key] = (changes[key] ?? 0) + 1;
  }
  return {
    rules,
    randomPairs,
    blockedPairs: pairs.length,
    matchShare: lambda,
    changes,
    termFrequencies: countNames(records),
  };
}

const round = (x: number) => Number(x.toPrecision(4));

/** The share of records with each family and first given name; names held by fewer than 5 are left out. */
export function countNames(records: MatchFeatures[]): { field: string; value: string; share: number }[] {
  const counts = new Map<string, number>();
  for (const r of records) {
    const family = r.family.join(' ');
    if (family) counts.set(`family|${family}`, (counts.get(`family|${family}`) ?? 0) + 1);
    if (r.given[0]) counts.set(`given|${r.given[0]}`, (counts.get(`given|${r.given[0]}`) ?? 0) + 1);
  }
  return [...counts]
    .filter(([, c]) => c >= 5)
    .map(([k, c]) => {
      const [field, value] = k.split('|') as [string, string];
      return { field, value, share: c / records.length };
    });
}
