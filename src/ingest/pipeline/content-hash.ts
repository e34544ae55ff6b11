import type { Resource } from '@medplum/fhirtypes';
import { sha256Hex, stringifyKeepingDecimals } from '../../fhir/index.ts';

/**
 * What makes a new version: the content (references resolved) and the source's security labels
 * (a label added or removed later must relabel the item), not the rest of meta (versionId,
 * lastUpdated, tags). Key order is the sender's: a sender that reorders keys creates a new,
 * identical version. Decimals count as spelled ("4.10" is not "4.1"), so an item stored before
 * spellings were kept is written again, precision restored, when its source next sends it.
 */
export function contentHash(resource: Resource): string {
  const { meta, ...rest } = resource;
  return sha256Hex(
    stringifyKeepingDecimals(meta?.security?.length ? { ...rest, '#security': meta.security } : rest),
  );
}
