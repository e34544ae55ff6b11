/**
 * Where an item came from. Sharedcare stamps every item it stores with its source (meta.source),
 * the organisation's ODS code (meta.tag) and a provenance extension (organisation, source system,
 * the source's own id and version, when it was received): see src/ingest/ingest.ts.
 */
import type { Extension, Resource } from '@medplum/fhirtypes';

export const PROVENANCE_EXTENSION = 'https://sharedcare.dev/fhir/StructureDefinition/provenance';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SOURCE_PREFIX = 'urn:sharedcare:source:';

export interface Provenance {
  ods: string;
  orgName: string;
  sourceSystem: string;
  received?: string;
  sourceLastUpdated?: string;
}

export function provenanceOf(resource: Resource): Provenance {
  const ext = (resource as { extension?: Extension[] }).extension?.find(
    (e) => e.url === PROVENANCE_EXTENSION,
  );
  const part = (url: string) => ext?.extension?.find((e) => e.url === url);
  const org = part('organisation')?.valueReference;
  const tag = resource.meta?.tag?.find((t) => t.system === ODS_SYSTEM);
  const ods = org?.identifier?.value ?? tag?.code ?? 'unknown';
  const received = part('received')?.valueInstant;
  const sourceLastUpdated = part('sourceLastUpdated')?.valueInstant;
  return {
    ods,
    orgName: org?.display ?? tag?.display ?? ods,
    sourceSystem:
      part('sourceSystem')?.valueString ?? resource.meta?.source?.replace(SOURCE_PREFIX, '') ?? 'unknown',
    ...(received ? { received } : {}),
    ...(sourceLastUpdated ? { sourceLastUpdated } : {}),
  };
}
