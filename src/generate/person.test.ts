import type { Patient, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { NHS_NUMBER_SYSTEM, isValidNhsNumber } from '../identity/index.ts';
import { generatePerson, type PersonRecords } from './person.ts';
import { SOURCE_IDS, regionSpec } from './region-spec.ts';
import { TEST_NOW, TEST_SEED, isSensitive, collectReferences } from './test-helpers.ts';

const spec = regionSpec();
const gpSources = new Set(spec.sources.filter((s) => s.id.startsWith('gp-')).map((s) => s.id));

function getPatient(resources: readonly Resource[]): Patient {
  const first = resources[0];
  if (first?.resourceType !== 'Patient')
    throw new Error('the first resource of a source must be its Patient');
  return first;
}

function getNhsNumber(patient: Patient): string | undefined {
  return patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
}

function countItems(person: PersonRecords): number {
  let n = 0;
  for (const list of person.bySource.values()) n += list.length;
  return n;
}

describe('generatePerson', () => {
  it('is deterministic per (seed, index) and independent of other indexes', () => {
    expect(generatePerson(spec, 42, TEST_SEED, TEST_NOW)).toEqual(
      generatePerson(spec, 42, TEST_SEED, TEST_NOW),
    );
    expect(generatePerson(spec, 42, TEST_SEED)).toEqual(generatePerson(spec, 42, TEST_SEED));
    generatePerson(spec, 41, TEST_SEED, TEST_NOW);
    const again = generatePerson(spec, 42, TEST_SEED, TEST_NOW);
    expect(again.nhsNumber).toBe(generatePerson(spec, 42, TEST_SEED, TEST_NOW).nhsNumber);
    expect(generatePerson(spec, 43, TEST_SEED, TEST_NOW).nhsNumber).not.toBe(again.nhsNumber);
    expect(generatePerson(spec, 42, TEST_SEED + 1, TEST_NOW).nhsNumber).not.toBe(again.nhsNumber);
  });

  it('can generate a far index on its own', () => {
    const person = generatePerson(spec, 70_000, TEST_SEED, TEST_NOW);
    expect(person.index).toBe(70_000);
    expect(isValidNhsNumber(person.nhsNumber)).toBe(true);
  });
});

describe('a population of 300 persons', () => {
  const persons: PersonRecords[] = [];
  beforeAll(() => {
    for (let i = 0; i < 300; i++) persons.push(generatePerson(spec, i, TEST_SEED, TEST_NOW));
  });

  it('has valid, unique 999 NHS numbers, and the GP record carries the true one', () => {
    const seen = new Set<string>();
    for (const p of persons) {
      expect(p.nhsNumber).toMatch(/^999\d{7}$/);
      expect(isValidNhsNumber(p.nhsNumber)).toBe(true);
      seen.add(p.nhsNumber);
      const gp = [...p.bySource.keys()].filter((id) => gpSources.has(id));
      expect(gp).toHaveLength(1);
      const gpRecords = p.bySource.get(gp[0] ?? '') ?? [];
      expect(getNhsNumber(getPatient(gpRecords))).toBe(p.nhsNumber);
    }
    expect(seen.size).toBe(persons.length);
  });

  it('has a few hundred items per person on average and a long tail of heavy users', () => {
    const counts = persons.map(countItems);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    expect(mean).toBeGreaterThan(200);
    expect(mean).toBeLessThan(450);
    const heavy = persons.filter((p) => p.heavy);
    expect(heavy.length).toBeGreaterThan(0);
    expect(Math.max(...heavy.map(countItems))).toBeGreaterThan(1500);
  });

  it('spreads persons across sources in roughly the intended shares', () => {
    const share = (id: string): number => persons.filter((p) => p.bySource.has(id)).length / persons.length;
    expect(share(SOURCE_IDS.acute)).toBeGreaterThan(0.45);
    expect(share(SOURCE_IDS.acute)).toBeLessThan(0.75);
    expect(share(SOURCE_IDS.community)).toBeGreaterThan(0.15);
    expect(share(SOURCE_IDS.socialCare)).toBeGreaterThan(0.04);
    expect(share(SOURCE_IDS.outOfHours)).toBeGreaterThan(0.1);
  });

  it('has identity noise: missing and invalid NHS numbers outside the GP record', () => {
    let socialMissing = 0;
    let invalid = 0;
    for (const p of persons) {
      for (const [id, list] of p.bySource) {
        const nhs = getNhsNumber(getPatient(list));
        if (id === SOURCE_IDS.socialCare && nhs === undefined) socialMissing++;
        if (nhs !== undefined && !isValidNhsNumber(nhs)) {
          expect(gpSources.has(id)).toBe(false);
          invalid++;
        }
      }
    }
    expect(socialMissing).toBeGreaterThan(0);
    expect(invalid).toBeGreaterThan(0);
  });

  it('has demographic noise in non-GP records: names, birth dates and addresses that differ', () => {
    const differs = { given: 0, family: 0, birthDate: 0, postcode: 0, records: 0 };
    for (const p of persons) {
      const gpId = [...p.bySource.keys()].find((id) => gpSources.has(id)) ?? '';
      const truth = getPatient(p.bySource.get(gpId) ?? []);
      for (const [id, list] of p.bySource) {
        if (gpSources.has(id)) continue;
        const other = getPatient(list);
        differs.records++;
        if (other.name?.[0]?.given?.[0] !== truth.name?.[0]?.given?.[0]) differs.given++;
        if (other.name?.[0]?.family !== truth.name?.[0]?.family) differs.family++;
        if (other.birthDate !== truth.birthDate) differs.birthDate++;
        if (other.address?.[0]?.postalCode !== truth.address?.[0]?.postalCode) differs.postcode++;
      }
    }
    for (const key of ['given', 'family', 'birthDate', 'postcode'] as const) {
      expect(differs[key], key).toBeGreaterThan(0);
      expect(differs[key] / differs.records, key).toBeLessThan(0.15);
    }
  });

  it('plants sensitive items, counted exactly', () => {
    let counted = 0;
    let found = 0;
    for (const p of persons) {
      counted += p.sensitive;
      for (const list of p.bySource.values()) found += list.filter(isSensitive).length;
    }
    expect(counted).toBeGreaterThan(0);
    expect(found).toBe(counted);
  });

  it('gives every resource an id, meta and its own source patient, with nothing in the future', () => {
    const now = TEST_NOW.toISOString();
    const ids = new Set<string>();
    const problems: string[] = [];
    for (const p of persons) {
      for (const [sourceId, list] of p.bySource) {
        const patient = getPatient(list);
        const local = new Set(list.map((r) => `${r.resourceType}/${r.id ?? ''}`));
        for (const r of list) {
          const key = `${sourceId}/${r.resourceType}/${r.id ?? ''}`;
          if (!r.id || ids.has(key)) problems.push(`duplicate or missing id ${key}`);
          ids.add(key);
          if (r.meta?.versionId !== '1' || !r.meta.lastUpdated || r.meta.lastUpdated > now)
            problems.push(`meta ${key}`);
          const refs = collectReferences(r);
          for (const ref of refs)
            if (!local.has(ref)) problems.push(`${key} -> ${ref} is not in ${sourceId}`);
          if (r.resourceType !== 'Patient' && !refs.includes(`Patient/${patient.id ?? ''}`))
            problems.push(`${key} no patient`);
        }
        const dates = JSON.stringify(list).match(/"\d{4}-\d{2}-\d{2}(T[^"]*)?"/g) ?? [];
        for (const d of dates) if (d.slice(1, -1) > now) problems.push(`future date ${d} in ${sourceId}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });
});
