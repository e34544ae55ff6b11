import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { Queryable } from '../../db/index.ts';
import { itemId } from '../references.ts';
import { condition, patient, SOURCE } from './fixtures.test-kit.ts';
import { recordItemFacts, recordPatientFacts } from './relationships.ts';
import type { Stored } from './store.ts';
import { toItemWrite } from './stored-item.ts';
import type { RelationshipRecorder } from './types.ts';

/** Keeps what the stage hands the access module, as the access module would receive it. */
function recorder() {
  const recorded: { itemId: string; personId: string; facts: unknown[]; created?: boolean }[] = [];
  const rel: RelationshipRecorder = {
    facts: (r: Resource, org) => [`${org}:${r.resourceType}`],
    record: async (_tx, items) => void recorded.push(...items),
    reassign: async () => undefined,
  };
  return { rel, recorded };
}
const tx = {} as Queryable;

describe('relationship-facts stage', () => {
  it("records a Patient's facts when its link changed, not on a re-send", async () => {
    const { rel, recorded } = recorder();
    await recordPatientFacts(
      tx,
      rel,
      SOURCE,
      [
        { localId: 'a', personId: 'p1', reason: 'nhs-number', unchanged: false, created: true },
        { localId: 'b', personId: 'p2', reason: 'nhs-number', unchanged: true, created: false },
      ],
      new Map([
        ['a', patient('a') as never],
        ['b', patient('b') as never],
      ]),
    );
    expect(recorded).toEqual([
      { itemId: itemId('pas-test', 'Patient', 'a'), personId: 'p1', facts: ['RX1:Patient'] },
    ]);
  });

  it("records stored items' facts, withdraws a deleted item's, and skips unchanged ones", async () => {
    const { rel, recorded } = recorder();
    const item = (id: string) =>
      toItemWrite(
        SOURCE,
        { i: 0, resource: condition(id, 'Patient/x'), localId: id, personId: 'p1', localPatientId: 'x' },
        '2026-01-01T00:00:00Z',
      );
    const stored: Stored = {
      written: [
        { item: item('new'), action: 'created' },
        { item: item('same'), action: 'unchanged' },
      ],
      deleted: [{ id: 'gone', action: 'deleted', version: 2, personId: 'p1' }],
      moves: [],
    };
    await recordItemFacts(tx, rel, SOURCE, stored);
    expect(recorded).toEqual([
      { itemId: item('new').id, personId: 'p1', facts: ['RX1:Condition'], created: true },
      { itemId: 'gone', personId: 'p1', facts: [] },
    ]);
  });
});
