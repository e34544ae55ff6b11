/**
 * The demo region says true things about itself: what the sources panel lists for each
 * organisation (its declared data set, else what its kind usually shares) matches what the
 * generator makes it send, and an out-of-hours visit is not sent as an A&E attendance.
 */
import type { Encounter } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { USUAL_DATA_SETS } from '../region/index.ts';
import { generatePerson } from './person.ts';
import { regionSpec, SOURCE_IDS } from './region-spec.ts';
import { TEST_NOW, TEST_SEED } from './test-helpers.ts';

const spec = regionSpec();
const shares = (ods: string) => {
  const o = spec.organisations.find((x) => x.ods === ods)!;
  return o.dataSet?.categories ?? USUAL_DATA_SETS[o.kind] ?? [];
};

describe('the demo region’s data sets', () => {
  it('lists the pathology lab as sharing test results only, not A&E attendances or letters', () => {
    const lab = spec.organisations.find((o) => o.ods === 'NL901')!;
    expect(lab.kind).toBe('pathology');
    expect(shares('NL901')).toEqual(['Pathology test results']);
    const person = generatePerson(spec, 7, TEST_SEED, TEST_NOW);
    const types = new Set(
      [...person.bySource.entries()]
        .filter(([id]) => id === SOURCE_IDS.lab)
        .flatMap(([, rs]) => rs.map((r) => r.resourceType)),
    );
    for (const t of types) expect(['Patient', 'Observation', 'DiagnosticReport']).toContain(t);
  });

  it('sends out-of-hours visits as what they are: a base consultation or a home visit, never an emergency (A&E) encounter', () => {
    const classes = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const person = generatePerson(spec, i, TEST_SEED, TEST_NOW);
      for (const r of person.bySource.get(SOURCE_IDS.outOfHours) ?? [])
        if (r.resourceType === 'Encounter') classes.add((r as Encounter).class.code ?? '');
    }
    expect([...classes].sort()).toEqual(['AMB', 'HH', 'VR']);
  });
});
