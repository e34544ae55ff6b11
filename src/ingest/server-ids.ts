/**
 * Ids for entries the sender did not name. FHIR lets a transaction POST a resource with neither
 * `id` nor `fullUrl` (the server assigns the id); intake needs a stable local id for every item to
 * derive Sharedcare's id from. Such an entry is named by its first identifier (localIdOf does
 * that) or else by its content, so that sending it again finds the same item and stores nothing new.
 */
import type { Resource } from '@medplum/fhirtypes';
import { sha256Hex, stableStringify } from '../fhir/index.ts';
import type { Entry } from './parse.ts';
import { entryLocalId } from './references.ts';

/** The prefix of a server-assigned local id (it takes the place of a fullUrl). */
export const SERVER_ID_PREFIX = 'urn:sharedcare:content:';

function contentId(resource: Resource): string {
  const { meta: _meta, ...content } = resource;
  return `${SERVER_ID_PREFIX}${sha256Hex(stableStringify(content)).slice(0, 40)}`;
}

/** The entries, each unnamed one given a content-derived local id (as its fullUrl). Run after validation. */
export function assignServerIds(entries: Entry[]): Entry[] {
  return entries.map((e) =>
    e.resource && entryLocalId(e) === undefined ? { ...e, fullUrl: contentId(e.resource) } : e,
  );
}
