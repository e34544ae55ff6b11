/**
 * FHIR JSON (a Bundle or a single resource) and FHIR NDJSON: parsed at the edge into entries that
 * are already FHIR, so their mapper is the identity.
 */
import { SharedcareError } from '../../errors/index.ts';
import { checkJsonText, parseKeepingDecimals } from '../../fhir/index.ts';
import { isNdjson, parseJson, parseNdjson, type Entry } from '../parse.ts';
import type { IntakeFormat } from './format.ts';

export const FHIR_JSON: IntakeFormat<Entry[]> = {
  name: 'FHIR JSON',
  parse(text) {
    const inexact = checkJsonText(text, false);
    let value: unknown;
    try {
      value = parseKeepingDecimals(text, inexact);
    } catch (err) {
      if (err instanceof SharedcareError) throw err;
      // Node's message quotes the input; keep only the position so no patient data is echoed or logged.
      const where = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new SharedcareError('invalid-request', 'the body is not valid JSON', [
        { message: `the body is not valid JSON${where ? ` (at character ${where})` : ''}` },
      ]);
    }
    return parseJson(value);
  },
  map: (entries) => entries,
};

export const FHIR_NDJSON: IntakeFormat<Entry[]> = {
  name: 'FHIR NDJSON',
  parse(text) {
    return parseNdjson(text, checkJsonText(text, true));
  },
  map: (entries) => entries,
};

/** The FHIR format a request's content type names. */
export function fhirFormat(contentType: string | undefined): IntakeFormat<Entry[]> {
  return isNdjson(contentType) ? FHIR_NDJSON : FHIR_JSON;
}
