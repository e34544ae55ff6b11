/**
 * The Bundles of the FHIR search API, as text: stored bodies are spliced in unparsed where they
 * were not changed (see bundle.ts). A searchset carries its total, its paging links and, when
 * parameters were left out, an OperationOutcome saying which.
 */
import type { BundleLink, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { utf8Joined } from './bundle.ts';

export interface Entry {
  resourceType: string;
  id: string;
  /** the resource as JSON text */
  body: string;
  mode: 'match' | 'include' | 'outcome';
}

export interface Paging {
  total: number;
  offset: number;
  /** undefined: everything in one page */
  count: number | undefined;
  /** the URL of the page starting at `offset` (the applied parameters only) */
  link: (offset: number) => string;
}

export function pagingLinks(p: Paging): BundleLink[] {
  const links: BundleLink[] = [{ relation: 'self', url: p.link(p.offset) }];
  if (p.count === undefined || p.count === 0) return links;
  links.push({ relation: 'first', url: p.link(0) });
  if (p.offset > 0) links.push({ relation: 'previous', url: p.link(Math.max(0, p.offset - p.count)) });
  if (p.offset + p.count < p.total) links.push({ relation: 'next', url: p.link(p.offset + p.count) });
  const last = p.total === 0 ? 0 : Math.floor((p.total - 1) / p.count) * p.count;
  links.push({ relation: 'last', url: p.link(last) });
  return links;
}

export function entryOf(baseUrl: string, resource: Resource, mode: Entry['mode']): Entry {
  return { resourceType: resource.resourceType, id: resource.id ?? '', body: JSON.stringify(resource), mode };
}

export function outcomeEntry(outcome: OperationOutcome): Entry {
  return { resourceType: 'OperationOutcome', id: '', body: JSON.stringify(outcome), mode: 'outcome' };
}

/**
 * A searchset Bundle as UTF-8 bytes: bodies spliced in as stored, written into one buffer piece by
 * piece (src/gate/bundle.ts says why: one joined string became two bytes a character when one body
 * held a character beyond Latin-1, and HTTP then encoded all of it again; the soak's record opens
 * spent 7 % of the server's time here).
 */
export function searchset(baseUrl: string, entries: Entry[], paging: Paging, now: Date): Buffer {
  const pieces = [
    `{"resourceType":"Bundle","type":"searchset","meta":{"lastUpdated":"${now.toISOString()}"},"total":${paging.total},"link":${JSON.stringify(pagingLinks(paging))},"entry":[`,
  ];
  entries.forEach((e, i) => {
    if (i > 0) pieces.push(',');
    if (e.mode === 'outcome') pieces.push('{"resource":', e.body, ',"search":{"mode":"outcome"}}');
    else
      pieces.push(
        `{"fullUrl":"${baseUrl}/${e.resourceType}/${e.id}","resource":`,
        e.body,
        `,"search":{"mode":"${e.mode}"}}`,
      );
  });
  pieces.push(']}');
  return utf8Joined(pieces);
}
