import { describe, expect, it } from 'vitest';
import { labelledRecords } from '../generate/index.ts';
import { featuresOf } from './features.ts';
import { loadMatchRules, parseMatchRules } from './rules.ts';
import { countNames, trainRules } from './train.ts';

describe('training the match weights (EM)', () => {
  const records = [...labelledRecords(1500, 3)].map((r) => featuresOf(r.patient));
  const current = loadMatchRules();
  const report = trainRules(current, records, { randomPairs: 20_000 });
  const level = (field: string, name: string) =>
    report.rules.comparisons.find((c) => c.field === field)!.levels.find((l) => l.level === name)!;

  it('writes the next version of valid rules', () => {
    expect(report.rules.version).toBe(current.version + 1);
    expect(() => parseMatchRules(report.rules)).not.toThrow();
  });

  it('learns that true pairs agree and random pairs do not', () => {
    expect(level('birthDate', 'exact').m).toBeGreaterThan(0.8);
    expect(level('birthDate', 'exact').u).toBeLessThan(0.01);
    expect(level('family', 'exact').m).toBeGreaterThan(0.7);
    expect(level('family', 'exact').u).toBeLessThan(0.1);
    expect(level('postcode', 'exact').m).toBeGreaterThan(level('postcode', 'exact').u * 50);
  });

  it('says how the decisions on the blocked pairs would change', () => {
    const total = Object.values(report.changes).reduce((s, n) => s + n, 0);
    expect(total).toBe(report.blockedPairs);
    expect(report.blockedPairs).toBeGreaterThan(0);
  });

  it('counts names, leaving out rare ones', () => {
    const counts = countNames(records);
    expect(counts.every((c) => c.share >= 5 / records.length)).toBe(true);
    expect(counts.some((c) => c.field === 'family')).toBe(true);
  });
});
