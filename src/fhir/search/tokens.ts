/**
 * FHIR token search (R4 §3.1.1.4.10): "system|code", "|code" (no system), "system|" (any code in the
 * system) or "code" (any system), matched against codes, Codings, CodeableConcepts and Identifiers.
 */

export interface TokenValue {
  /** undefined: any system; '': no system */
  system: string | undefined;
  /** undefined: any code in the system */
  code: string | undefined;
}

export function parseToken(text: string): TokenValue | undefined {
  if (text === '' || text === '|') return undefined;
  const bar = text.indexOf('|');
  if (bar < 0) return { system: undefined, code: text };
  const system = text.slice(0, bar);
  const code = text.slice(bar + 1);
  return { system, code: code === '' ? undefined : code };
}

interface Coded {
  system?: string;
  code?: string;
  value?: string;
}

/** The codings an element value carries: a code string, a Coding, a CodeableConcept, an Identifier. */
export function codingsOf(value: unknown): Coded[] {
  if (typeof value === 'string') return [{ code: value }];
  if (value === null || typeof value !== 'object') return [];
  const v = value as { coding?: unknown; system?: unknown; code?: unknown; value?: unknown };
  if (Array.isArray(v.coding)) return v.coding.filter((c): c is Coded => !!c && typeof c === 'object');
  if (typeof v.code === 'string' || typeof v.value === 'string') return [v as Coded];
  return [];
}

export function tokenMatches(t: TokenValue, values: unknown[]): boolean {
  for (const value of values) {
    for (const c of codingsOf(value)) {
      const code = c.code ?? c.value;
      if (t.code !== undefined && code !== t.code) continue;
      if (t.system === undefined) return true;
      if (t.system === '' ? c.system === undefined : c.system === t.system) return true;
    }
  }
  return false;
}
