/**
 * The body-level guard: what no request may carry, whatever the route. Every JSON or NDJSON body
 * is scanned as text before it is parsed, and every query-string and path value before a route
 * sees it, so no code further in ever meets:
 * - a NUL (U+0000): PostgreSQL cannot store it in text or jsonb, and its refusal quotes the text;
 * - a lone surrogate (U+D800–U+DFFF without its pair): not Unicode text, refused likewise;
 * - nesting deeper than MAX_JSON_DEPTH: a recursive walk (the validator's) would overflow the stack.
 * Messages give a position only, never the content.
 */
import { SharedcareError } from '../errors/index.ts';
import { scanNumber } from './decimals.ts';

/** Objects and arrays inside one another; FHIR resources in a Bundle stay well under 40. */
export const MAX_JSON_DEPTH = 100;

const HEX4 = /^[0-9a-fA-F]{4}$/;

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

function refuse(what: string, text: string, i: number, ndjson: boolean): never {
  const lineStart = text.lastIndexOf('\n', i) + 1;
  const line = ndjson ? text.slice(0, lineStart).split('\n').length : 0;
  const where = ndjson ? `line ${line}, character ${i - lineStart + 1}` : `character ${i + 1}`;
  throw new SharedcareError('invalid-request', `the body ${what}; nothing was stored`, [
    { message: `the body ${what} (at ${where})`, ...(ndjson ? { expression: `line ${line}` } : {}) },
  ]);
}

const NUL = 'contains a NUL character (\\u0000), which a FHIR string may not hold';
const SURROGATE = 'contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text';
const DEEP = `is nested more than ${MAX_JSON_DEPTH} levels deep`;

/** The value of a \uXXXX escape at i (text[i] is the backslash), or -1 if it is not one. */
function escapeAt(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x5c || text.charCodeAt(i + 1) !== 0x75) return -1;
  const hex = text.slice(i + 2, i + 6);
  return HEX4.test(hex) ? parseInt(hex, 16) : -1;
}

/**
 * Throws invalid-request (400) if JSON or NDJSON text holds a NUL or a lone surrogate, written
 * raw or as a \u escape, or nests too deeply. One pass over the text, before JSON.parse. Returns
 * whether any number is spelled otherwise than JSON.stringify writes it back ("72.50", "1e2"),
 * so that only such bodies are parsed keeping their spelling (decimals.ts).
 */
export function checkJsonText(text: string, ndjson = false): boolean {
  let depth = 0;
  let inString = false;
  let inexact = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) refuse(NUL, text, i, ndjson);
    if (c >= 0xd800 && c <= 0xdfff) {
      if (isHigh(c) && isLow(text.charCodeAt(i + 1))) i++;
      else refuse(SURROGATE, text, i, ndjson);
      continue;
    }
    if (inString) {
      if (c === 0x22) inString = false;
      else if (c === 0x5c) {
        const u = escapeAt(text, i);
        if (u < 0)
          i++; // \" \\ \n …: skip the escaped character
        else if (u === 0) refuse(NUL, text, i, ndjson);
        else if (isHigh(u) && isLow(escapeAt(text, i + 6))) i += 11;
        else if (isHigh(u) || isLow(u)) refuse(SURROGATE, text, i, ndjson);
        else i += 5;
      }
    } else if (c === 0x22) inString = true;
    else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      const n = scanNumber(text, i);
      inexact ||= n.inexact;
      i = n.end - 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) refuse(DEEP, text, i, ndjson);
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x0a && ndjson) depth = 0; // each line is a document of its own
  }
  return inexact;
}

// eslint-disable-next-line no-control-regex -- finding the NUL is the point
const BAD_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throws invalid-request (400) if a query-string or path value holds a NUL or a lone surrogate. */
export function checkRequestValues(values: Record<string, unknown> | undefined, where: string): void {
  for (const [name, value] of Object.entries(values ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string') continue;
      if (BAD_TEXT.test(v) || BAD_TEXT.test(name))
        throw new SharedcareError('invalid-request', `a ${where} value is not valid text`, [
          {
            message: `a ${where} value contains a NUL character or a lone surrogate, which is not valid text`,
            expression: BAD_TEXT.test(name) ? where : name,
          },
        ]);
    }
  }
}

/**
 * Query parameters that may be given more than once: FHIR ranges (date=ge…&date=le…), several
 * _include, and the FHIR search parameters whose repetition means AND (src/fhir/search reads them
 * as lists). `code` and `status` are left out: other routes read them as one string.
 */
const REPEATABLE = new Set([
  'date',
  '_lastUpdated',
  '_include',
  '_tag',
  '_source',
  'category',
  'clinical-status',
  'vaccine-code',
  'service-type',
]);

/**
 * The query-string check of every route: text only (checkRequestValues), and each parameter at
 * most once unless it is one that FHIR repeats, so no route meets an array where it reads a string.
 */
export function checkQuery(query: Record<string, unknown> | undefined): void {
  checkRequestValues(query, 'query');
  for (const [name, value] of Object.entries(query ?? {}))
    if (Array.isArray(value) && !REPEATABLE.has(name))
      throw new SharedcareError('invalid-request', `the query parameter ${name} is given more than once`, [
        { message: `give ${name} once`, expression: name },
      ]);
}
