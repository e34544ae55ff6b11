import type { Coding, Resource } from '@medplum/fhirtypes';
import { ODS_SYSTEM } from './naming.ts';

/**
 * Every coded concept anywhere in a resource, as "system|code". Walking the whole resource (not a
 * list of known fields) means a sensitive code in reasonCode, a component, a contained resource or
 * an extension is still seen. Organisation (ODS) identifiers count as codes too, so that a code list
 * can name an organisation or clinic whose every item is sensitive (a referral to it, a letter from it).
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
    else if (obj.system === ODS_SYSTEM && typeof obj.value === 'string')
      out.add(`${ODS_SYSTEM}|${obj.value}`);
    for (const key in obj) {
      const value = obj[key];
      if (key !== 'meta' && key !== 'text' && value !== null && typeof value === 'object') walk(value);
    }
  };
  walk(resource);
  return [...out];
}

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/**
 * Security labels, as "system|code": meta.security, and where a type carries its own, a
 * DocumentReference's securityLabel (how the National Record Locator marks a document restricted)
 * and a Composition's confidentiality.
 */
export function collectSecurityLabels(resource: Resource): string[] {
  const codings: Coding[] = [...(resource.meta?.security ?? [])];
  if (resource.resourceType === 'DocumentReference')
    for (const label of resource.securityLabel ?? []) codings.push(...(label.coding ?? []));
  if (resource.resourceType === 'Composition' && resource.confidentiality)
    codings.push({ system: CONFIDENTIALITY, code: resource.confidentiality });
  return [...new Set(codings.filter((c) => c.code).map((c) => `${c.system ?? ''}|${c.code}`))];
}
