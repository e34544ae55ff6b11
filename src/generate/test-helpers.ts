/** Shared helpers for the generator's tests. */
import type { Coding, Resource } from '@medplum/fhirtypes';
import { loadSensitiveCodes } from './sensitive-codes.ts';

export const TEST_NOW = new Date('2025-06-01T00:00:00.000Z');
export const TEST_SEED = 12_345;

/** Every Coding (anything with system and code) anywhere inside a resource. */
export function collectCodings(value: unknown, out: Coding[] = []): Coding[] {
  if (Array.isArray(value)) {
    for (const item of value) collectCodings(item, out);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.system === 'string' && typeof record.code === 'string') {
      out.push({ system: record.system, code: record.code });
    }
    for (const child of Object.values(record)) if (typeof child === 'object') collectCodings(child, out);
  }
  return out;
}

/** Whether a resource carries a code from config/sensitive-codes.csv (exact or prefix match). */
export function isSensitive(resource: Resource): boolean {
  const codes = loadSensitiveCodes();
  return collectCodings(resource).some((c) =>
    codes.some(
      (s) =>
        s.system === c.system &&
        (s.match === 'prefix' ? (c.code ?? '').startsWith(s.code) : c.code === s.code),
    ),
  );
}

/** Every `reference` string anywhere inside a value. */
export function collectReferences(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) collectReferences(item, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'reference' && typeof child === 'string') out.push(child);
      else if (typeof child === 'object') collectReferences(child, out);
    }
  }
  return out;
}
