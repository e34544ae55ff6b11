import { describe, expect, it } from 'vitest';
import { describeWrite, finishResults, pendingResults } from './results.ts';
import { entries, patient } from './fixtures.test-kit.ts';

describe('results', () => {
  const list = entries(patient('p1'), { resourceType: 'Practitioner', id: 'x' } as never);

  it('says why an entry nothing took was ignored, and counts by action', () => {
    const results = pendingResults(list);
    results[0] = { at: 'Bundle.entry[0]', action: 'linked', resourceType: 'Patient', id: 'person' };
    const out = finishResults(list, results);
    expect(out.entries[1]).toEqual({
      at: 'Bundle.entry[1]',
      action: 'ignored',
      resourceType: 'Practitioner',
      note: 'Practitioner is not part of the shared care record',
    });
    expect(out.counts).toEqual({ linked: 1, ignored: 1 });
  });

  it('explains a stale version and a delete of nothing', () => {
    expect(describeWrite(list[0]!, 'Condition', { id: 'i', action: 'stale', version: 3 }).note).toMatch(
      /older/,
    );
    expect(describeWrite(list[0]!, 'Condition', { id: 'i', action: 'not-found' }).note).toBe(
      'nothing to delete',
    );
    expect(describeWrite(list[0]!, 'Condition', { id: 'i', action: 'created', version: 1 })).toEqual({
      at: 'Bundle.entry[0]',
      resourceType: 'Condition',
      id: 'i',
      action: 'created',
      version: 1,
    });
  });
});
