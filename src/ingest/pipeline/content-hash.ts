import type { Resource } from '@medplum/fhirtypes';
import { sha256Hex } from '../../fhir/index.ts';

/**
 * What makes a new version: the content (references resolved) and the source's security labels
 * (a label added or removed later must relabel the item), not the rest of meta (versionId,
 * lastUpdated, tags). Key order is the sender's: a sender that reorders keys creates a new,
 * identical version.
 */
export function contentHash(resource: Resource): string {
  const { meta, ...rest } = resource;
  return sha256Hex(JSON.stringify(meta?.security?.length ? { ...rest, '#security': meta.security } : rest));
}
