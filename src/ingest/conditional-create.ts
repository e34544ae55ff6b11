/**
 * Conditional create (`request.ifNoneExist` on a POST entry): the sender asks that the resource be
 * created only if none matching the criteria exists. A source that re-sends a transaction makes
 * fresh `urn:uuid`s and ids each time; the identifier in `ifNoneExist` is what stays the same. So
 * intake looks for an item of the same source, type and person that carries it
 * (resolve-references.ts resolveStoredIdentifiers) and, finding one, files the entry as that item:
 * unchanged content stores nothing, changed content is a new version of it (Sharedcare mirrors its
 * sources). Finding none, the entry is named as any POST is (its id, else its first identifier),
 * so that a later request naming it by that id still finds it.
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
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** An identifier the entry's resource carries, to find the item it made before by. */
export interface ConditionalKey {
  system: string;
  value: string;
}

/**
 * The identifier an `ifNoneExist` names, as the resource carries it, or a problem saying what to
 * fix. The identifier must be one the resource carries.
 */
export function conditionalKey(
  ifNoneExist: unknown,
  resource: Resource,
  at: string,
): { key: ConditionalKey } | { problem: Problem } {
  const expression = `${at}.request.ifNoneExist`;
  const refuse = (message: string) => ({ problem: { message, expression } });
  if (typeof ifNoneExist !== 'string') return refuse('ifNoneExist must be a string');
  // FHIR: the query part of a search URL; "?identifier=…" and the resource's own "Type?identifier=…"
  // are read alike, another type's is a mistake worth saying
  const prefix = /^([A-Z][A-Za-z]*)?\?/.exec(ifNoneExist);
  if (prefix?.[1] !== undefined && prefix[1] !== resource.resourceType)
    return refuse(`ifNoneExist searches ${prefix[1]}, but the entry is a ${resource.resourceType}`);
  const query = ifNoneExist.slice(prefix?.[0].length ?? 0);
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
  // read before schema validation: an identifier may be anything yet (null, a string)
  const carried = (Array.isArray(ids) ? ids : ids ? [ids] : []).find(
    (i) =>
      i !== null &&
      typeof i === 'object' &&
      i.value === value &&
      (system === undefined || (i.system ?? '') === system),
  );
  if (!carried)
    return refuse(
      `ifNoneExist names identifier ${token.slice(0, 100)}, which the ${resource.resourceType} does not carry; name one of its own identifiers`,
    );
  return { key: { system: carried.system ?? '', value: carried.value! } };
}
