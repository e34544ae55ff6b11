import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { ItemRow } from '../store/index.ts';

/**
 * Builds a searchset Bundle as UTF-8 bytes, ready to send. Stored bodies are spliced in as they
 * are, unparsed: the store keeps each item exactly as it is served, so a record open never
 * re-serialises thousands of resources. The Patient is the match of a Patient search, and an
 * include of $everything.
 *
 * Bytes rather than one JavaScript string (measured on Synthea-shaped records, BENCHMARKS.md): a
 * single body with a character outside Latin-1 (a name with an accent, a "≥") made the joined
 * string two bytes a character throughout, and the HTTP layer then measured and encoded all of it
 * again. Written piece by piece into one buffer, each body is encoded once, on its own.
 */
export function searchsetBundle(
  baseUrl: string,
  patient: { resource: Patient; mode: 'match' | 'include' } | undefined,
  rows: ItemRow[],
  outcome?: OperationOutcome,
): Buffer {
  const total = rows.length + (patient?.mode === 'match' ? 1 : 0);
  const lastUpdated = new Date().toISOString();
  // pieces in order; the entries are separated by commas
  const pieces: string[] = [
    `{"resourceType":"Bundle","type":"searchset","meta":{"lastUpdated":"${lastUpdated}"},"total":${total},"entry":[`,
  ];
  let first = true;
  const entry = (...parts: string[]): void => {
    if (!first) pieces.push(',');
    first = false;
    pieces.push(...parts);
  };
  if (patient) {
    const p = patient.resource;
    entry(
      `{"fullUrl":"${baseUrl}/Patient/${p.id}","resource":${JSON.stringify(p)},"search":{"mode":"${patient.mode}"}}`,
    );
  }
  for (const r of rows)
    entry(
      `{"fullUrl":"${baseUrl}/${r.resourceType}/${r.id}","resource":`,
      r.body,
      ',"search":{"mode":"match"}}',
    );
  if (outcome) entry(`{"resource":${JSON.stringify(outcome)},"search":{"mode":"outcome"}}`);
  pieces.push(']}');
  return utf8Joined(pieces);
}

/** The pieces written one after another into one UTF-8 buffer, each encoded once (see above). */
export function utf8Joined(pieces: readonly string[]): Buffer {
  let length = 0;
  for (const s of pieces) length += Buffer.byteLength(s);
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const s of pieces) at += out.write(s, at);
  return out;
}
