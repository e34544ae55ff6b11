import { describe, expect, it } from 'vitest';
import { CandidatePool, OneRecordPool } from './candidate-pool.ts';
import { recordKey, type CandidateRecord } from './decide.ts';
import { featuresOf, keyProbes } from './features.ts';

const record = (localId: string, family: string, given: string, birthDate: string): CandidateRecord => ({
  sourceId: 'acute',
  localId,
  personId: `person-${localId}`,
  personNhs: null,
  features: featuresOf({
    resourceType: 'Patient',
    name: [{ family, given: [given] }],
    birthDate,
    gender: 'female',
    address: [{ postalCode: 'LS1 4AP' }],
  }),
});

describe('the candidates of a batch of one record', () => {
  const incoming = record('new', 'Okafor', 'Adaeze', '1984-03-07');
  // what the decision read returns: records whose stored keys meet the incoming record's probes,
  // the incoming record itself when it was linked before, and a record found by two keys twice
  const swapped = record('a', 'Okafor', 'Adaeze', '1984-07-03');
  const nickname = record('b', 'Okafor', 'Ada', '1984-03-07');
  const moved = record('c', 'Okafor-Hughes', 'Adaeze', '1984-03-07');
  const read = [swapped, nickname, incoming, moved, nickname];

  it('are every record the read found but the record itself, once each', () => {
    const near = new OneRecordPool(read).near(incoming.features, recordKey('acute', 'new'));
    expect(near.map((r) => r.localId).sort()).toEqual(['a', 'b', 'c']);
  });

  it('are the records the keyed pool finds by the record’s probes', () => {
    const self = recordKey('acute', 'new');
    const keyed = new CandidatePool(read).near(incoming.features, self);
    const one = new OneRecordPool(read).near(incoming.features, self);
    expect(keyProbes(incoming.features).length).toBeGreaterThan(0);
    expect(one.map((r) => r.localId).sort()).toEqual(keyed.map((r) => r.localId).sort());
  });
});
