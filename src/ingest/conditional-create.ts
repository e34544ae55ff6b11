/**
 * Conditional create (`request.ifNoneExist` on a POST entry): the sender asks that the resource be
 * created only if none matching the criteria exists. A source that re-sends a transaction makes
 * fresh `urn:uuid`s and ids each time; the identifier in `ifNoneExist` is what stays the same, so
 * it becomes the entry's local id, and a re-sent entry finds the item it made before instead of
 * making another. Sharedcare mirrors its sources, so a match whose content has changed is kept as
 * a new version of that item (as a PUT would be), never as a second item.
 *
 * Only `identifier` criteria are taken: an item is found again by what it carries, and any other
 * search would need the whole search engine at intake. Other criteria are refused with a message,
 * since ignoring them would create the duplicates the sender asked to avoid.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Problem } from '../errors/index.ts';

type Identified = { system?: string; value?: string };

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The local id an `ifNoneExist` gives the entry ("system|value", as an identifier-named entry's),
 * or a problem saying what to fix. The identifier must be one the resource carries.
 */
export function conditionalLocalId(
  ifNoneExist: unknown,
  resource: Resource,
  at: string,
): { localId: string } | { problem: Problem } {
  const expression = `${at}.request.ifNoneExist`;
  const refuse = (message: string) => ({ problem: { message, expression } });
  if (typeof ifNoneExist !== 'string') return refuse('ifNoneExist must be a string');
  // FHIR: the query part of a search URL; "Patient?identifier=…" and "?identifier=…" are read alike
  const query = ifNoneExist.replace(/^(?:[A-Z][A-Za-z]*)?\?/, '');
  const params = query.split('&').filter((p) => p !== '');
  const [param] = params;
  const eq = param?.indexOf('=') ?? -1;
  if (params.length !== 1 || eq < 0 || param!.slice(0, eq) !== 'identifier')
    return refuse(
      `ifNoneExist "${ifNoneExist.slice(0, 100)}" is not taken: give one identifier=system|value (no other search is supported in a conditional create)`,
    );
  const token = decode(param!.slice(eq + 1));
  if (!token) return refuse('ifNoneExist identifier= has no value (or is not valid URL encoding)');
  const bar = token.indexOf('|');
  const [system, value] = bar < 0 ? [undefined, token] : [token.slice(0, bar), token.slice(bar + 1)];
  const ids = (resource as { identifier?: Identified[] | Identified }).identifier;
  const carried = (Array.isArray(ids) ? ids : ids ? [ids] : []).find(
    (i) => i.value === value && (system === undefined || (i.system ?? '') === system),
  );
  if (!carried)
    return refuse(
      `ifNoneExist names identifier ${token.slice(0, 100)}, which the ${resource.resourceType} does not carry; name one of its own identifiers`,
    );
  return { localId: `${carried.system ?? ''}|${carried.value}` };
}
