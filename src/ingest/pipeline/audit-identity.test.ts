import { describe, expect, it } from 'vitest';
import { identityEvents } from './audit-identity.ts';
import { SOURCE } from './fixtures.test-kit.ts';

describe('audit of identity changes', () => {
  it('audits a first link and a move (split then link), not a re-send', () => {
    const events = identityEvents(SOURCE, [
      { localId: 'a', personId: 'p1', reason: 'nhs-number', unchanged: false, created: true },
      {
        localId: 'b',
        personId: 'p2',
        reason: 'matched',
        unchanged: false,
        created: false,
        previousPersonId: 'p3',
      },
      { localId: 'c', personId: 'p4', reason: 'nhs-number', unchanged: true, created: false },
    ]);
    expect(events.map((e) => [e.action, e.personId])).toEqual([
      ['identity.link', 'p1'],
      ['identity.split', 'p3'],
      ['identity.link', 'p2'],
    ]);
    expect(events[0]!.user).toEqual({ id: 'source:pas-test', org: 'RX1', role: 'source-system' });
  });
});
