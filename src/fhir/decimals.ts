/**
 * FHIR decimals as they were written. FHIR requires a decimal's precision to be kept ("72.50" is
 * not "72.5": the trailing zero says the value was measured to two places), but JSON.parse turns
 * every number into a double, and JSON.stringify writes the shortest spelling of it. So:
 *
 * - Intake's guard (guard.ts) notes, in the pass it already makes over the text, whether any number
 *   is spelled otherwise than JSON.stringify would write it back (`inexactNumber`). Almost no body
 *   does, and those are parsed by JSON.parse as before.
 * - The few that do are parsed by lossless-json, which hands us each number's text. Each number is
 *   still a plain JS number in the parsed resource (validation, classification and hashing see
 *   what they always saw); its spelling is remembered against the object that holds it, in a map
 *   carried by the resource under a symbol (spreads copy it, JSON never sees it).
 * - The store writes a resource that carries the map with `stringifyKeepingDecimals`, which puts
 *   each number back as it was spelled, provided it still holds the same value.
 *
 * The map is keyed by the holding object, not by a path, because intake rewrites references in
 * place and copies only the top level (provenance, versionId). A decimal directly on the resource
 * (none of the clinical types has one) would lose its spelling; nothing is ever worse than before.
 */
import { randomBytes } from 'node:crypto';
import { parse as losslessParse } from 'lossless-json';
import { SharedcareError } from '../errors/index.ts';

/** spelling of numbers by holding object, then by key (an array's index as a string) */
export type Spellings = Map<object, Map<string, string>>;

export const SPELLINGS: unique symbol = Symbol('sharedcare.decimalSpellings');

type Carrier = { [SPELLINGS]?: Spellings };

/**
 * Where the number token starting at i ends, and whether JSON.stringify would write it back
 * otherwise: an exponent, a fraction ending in 0, -0, or digits a double does not keep.
 */
export function scanNumber(text: string, i: number): { end: number; inexact: boolean } {
  let j = i;
  let digits = 0;
  let leading = true;
  let exponent = false;
  let fraction = false;
  let last = 0;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c >= 0x30 && c <= 0x39) {
      if (!exponent && (c !== 0x30 || !leading)) {
        leading = false;
        digits++;
      }
    } else if (c === 0x2e) fraction = true;
    else if (c === 0x65 || c === 0x45) exponent = true;
    else if (c !== 0x2d && c !== 0x2b) break;
    last = c;
  }
  const negativeZero = text.charCodeAt(i) === 0x2d && digits === 0;
  if (exponent || (fraction && last === 0x30) || negativeZero) return { end: j, inexact: true };
  // 16 or 17 digits may be just what a double holds (58.030920727031535 is written back the same):
  // only then is the number itself worth the look
  if (digits <= 15) return { end: j, inexact: false };
  const token = text.slice(i, j);
  return { end: j, inexact: JSON.stringify(Number(token)) !== token };
}

/** Whether any number in JSON text (outside its strings) is spelled otherwise than JSON.stringify writes it. */
export function hasSpelledNumbers(text: string): boolean {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      const n = scanNumber(text, i);
      if (n.inexact) return true;
      i = n.end - 1;
    }
  }
  return false;
}

/**
 * A stored body (our own JSON) parsed to be changed and written again, its decimals as stored. A
 * read never fails on what was stored: a number no double holds (stored before intake refused
 * them) is read as JSON.parse reads it.
 */
export function parseStored(text: string): unknown {
  return parseKeepingDecimals(text, hasSpelledNumbers(text), false);
}

/** A number whose text differs from what JSON.stringify would write for it. */
class Spelled {
  constructor(
    readonly value: number,
    readonly text: string,
  ) {}
}

class NotFinite extends Error {}

/**
 * JSON text to a value; where `inexact` (the guard found a number JSON.stringify would spell
 * otherwise), each such number's text is kept on the resources that contain it.
 */
export function parseKeepingDecimals(text: string, inexact: boolean, refuseNotFinite = true): unknown {
  if (!inexact) return JSON.parse(text);
  let value: unknown;
  try {
    value = losslessParse(text, undefined, (t: string) => {
      const n = Number(t);
      if (!Number.isFinite(n)) {
        if (refuseNotFinite) throw new NotFinite();
        return n;
      }
      return JSON.stringify(n) === t ? n : new Spelled(n, t);
    });
  } catch (err) {
    if (err instanceof NotFinite)
      throw new SharedcareError('invalid-request', 'the body holds a number too large for a FHIR decimal', [
        { message: 'a number is too large to be a FHIR decimal or integer (it is not finite)' },
      ]);
    // what lossless-json refuses and JSON.parse takes (a repeated key): as before, without the spellings
    return JSON.parse(text);
  }
  restore(value, []);
  return value;
}

/**
 * Elements of FHIR's integer types (integer, positiveInt, unsignedInt) among the clinical types:
 * the choice types' `…Integer`, and the few named outright. A decimal's spelling is kept; an
 * integer's is the number's.
 */
const INTEGER_ELEMENT =
  /(?:Integer|PositiveInt|UnsignedInt)$|^(?:rank|sequence|numberOfSeries|numberOfInstances|number|frames|count|countMax|frequency|frequencyMax)$/;

/** Replaces each Spelled by its number, remembering its text on every enclosing resource. */
function restore(node: unknown, resources: Carrier[]): void {
  if (node === null || typeof node !== 'object') return;
  const inner = !Array.isArray(node) && 'resourceType' in node ? [...resources, node as Carrier] : resources;
  const holder = node as Record<string, unknown>;
  for (const key of Object.keys(holder)) {
    const v = holder[key];
    if (v instanceof Spelled) {
      holder[key] = v.value;
      // an integer element is written as an integer: "1.0" and "1E2" are not FHIR integers
      if (!INTEGER_ELEMENT.test(key)) for (const r of inner) keepSpelling(r, holder, key, v.text);
    } else restore(v, inner);
  }
}

/** Remembers, on `resource`, that `holder[key]` is written `text` (used by the HL7 v2 mapping too). */
export function keepSpelling(resource: object, holder: object, key: string, text: string): void {
  const carrier = resource as Carrier;
  const spellings = (carrier[SPELLINGS] ??= new Map());
  let keys = spellings.get(holder);
  if (!keys) spellings.set(holder, (keys = new Map()));
  keys.set(key, text);
}

/** Made once per process: a string carrying it cannot be forged by a sender who cannot see it. */
const MARK = `\u0001${randomBytes(12).toString('hex')}:`;
// JSON.stringify writes U+0001 as the six characters \u0001
const MARKED = new RegExp(`"\\\\u0001${MARK.slice(1)}(\\d+)"`, 'g');

/** JSON.stringify, writing each number whose spelling the value carries as it was spelled. */
export function stringifyKeepingDecimals(value: object): string {
  const spellings = (value as Carrier)[SPELLINGS];
  if (!spellings) return JSON.stringify(value);
  const texts: string[] = [];
  const out = JSON.stringify(value, function (this: object, key: string, v: unknown) {
    if (typeof v !== 'number') return v;
    const text = spellings.get(this)?.get(key);
    if (text === undefined || Number(text) !== v) return v;
    texts.push(text);
    return `${MARK}${texts.length - 1}`;
  });
  return out.replace(MARKED, (_, i: string) => texts[Number(i)]!);
}
