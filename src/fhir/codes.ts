import type { Coding, Resource } from '@medplum/fhirtypes';

/**
 * Every coded concept anywhere in a resource, as "system|code". Walking the whole resource (not a
 * list of known fields) means a sensitive code in reasonCode, a component, a contained resource or
 * an extension is still seen.
 */
export function collectCodes(resource: Resource): string[] {
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) if (n !== null && typeof n === 'object') walk(n);
      return;
    }
    const obj = node as Record<string, unknown>;
    if (typeof obj.code === 'string' && typeof obj.system === 'string') out.add(`${obj.system}|${obj.code}`);
    for (const key in obj) {
      const value = obj[key];
      if (key !== 'meta' && key !== 'text' && value !== null && typeof value === 'object') walk(value);
    }
  };
  walk(resource);
  return [...out];
}

/** Security labels from meta.security, as "system|code". */
export function collectSecurityLabels(resource: Resource): string[] {
  return (resource.meta?.security ?? [])
    .filter((c: Coding) => c.code)
    .map((c: Coding) => `${c.system ?? ''}|${c.code}`);
}
