import { describe, expect, it } from 'vitest';
import { classifyItems } from './classify.ts';
import { condition, SOURCE } from './fixtures.test-kit.ts';
import { toItemWrite } from './stored-item.ts';

describe('classify stage', () => {
  it('labels each item from its codes, its organisation and the resource as the source sent it', async () => {
    const sent = condition('c1', 'Patient/x', '86406008');
    const item = toItemWrite(
      SOURCE,
      { i: 0, resource: sent, localId: 'c1', personId: 'p', localPatientId: 'x' },
      '2026-01-01T00:00:00Z',
    );
    const seen: unknown[] = [];
    await classifyItems([{ i: 0, item, sent }], (codes, _security, org, resource) => {
      seen.push(resource);
      return codes.includes('http://snomed.info/sct|86406008') && org === 'RX1' ? ['hiv'] : [];
    });
    expect(item.sensitivity).toEqual(['hiv']);
    expect(seen).toEqual([sent]);
  });
});
