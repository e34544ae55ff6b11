import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { CLINICAL_TYPES } from '../fhir/index.ts';
import { RECONCILED_OPERATION } from './reconciled-routes.ts';

export function capabilityStatement(): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-26',
    kind: 'instance',
    software: { name: 'Sharedcare', version: '0.1.0' },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Read-only shared care record. Every read is governed (access, privacy policy) and audited.',
        security: { description: 'Bearer tokens (JWT) from issuers this region trusts.' },
        resource: [
          {
            type: 'Patient',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              {
                name: 'identifier',
                type: 'token',
                documentation: 'https://fhir.nhs.uk/Id/nhs-number|NHS number',
              },
            ],
            operation: [
              {
                name: 'everything',
                definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
              },
              RECONCILED_OPERATION,
            ],
          },
          ...Object.keys(CLINICAL_TYPES).map((type) => ({
            // keys of CLINICAL_TYPES are FHIR resource type names

            type: type as CapabilityStatementRestResource['type'],
            interaction: [{ code: 'read' as const }, { code: 'search-type' as const }],
            searchParam: [
              { name: 'patient', type: 'reference' as const },
              { name: 'date', type: 'date' as const },
              { name: 'status', type: 'token' as const },
              { name: 'code', type: 'token' as const },
            ],
          })),
        ],
      },
    ],
  };
}
