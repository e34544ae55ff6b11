import { describe, expect, it } from 'vitest';
import { isSharedcareError } from '../../errors/index.ts';
import { condition, entries, patient } from './fixtures.test-kit.ts';
import { validateEntries } from './validate.ts';

function problemsOf(fn: () => void) {
  try {
    fn();
  } catch (err) {
    if (isSharedcareError(err)) return err.problems;
    throw err;
  }
  return [];
}

describe('validate stage', () => {
  it('passes valid resources', () => {
    expect(
      problemsOf(() => validateEntries(entries(patient('p1'), condition('c1', 'Patient/p1')), 'schema')),
    ).toEqual([]);
  });

  it('names the entry and field of an invalid resource, and of an item without its patient', () => {
    const bad = { ...patient('p1'), birthDate: 'yesterday' };
    const orphan = { ...condition('c1', 'Patient/p1') } as Record<string, unknown>;
    delete orphan.subject;
    const problems = problemsOf(() => validateEntries(entries(bad, orphan as never), 'schema'));
    expect(problems.map((p) => p.expression)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Bundle\.entry\[0\]\.resource/),
        'Bundle.entry[1].resource.subject',
      ]),
    );
  });

  it('stops at a hundred problems', () => {
    const many = entries(...Array.from({ length: 150 }, (_, i) => ({ ...patient(`p${i}`), birthDate: 'x' })));
    expect(problemsOf(() => validateEntries(many, 'schema')).length).toBeLessThanOrEqual(101);
  });
});
