import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { ItemRow } from '../store/index.ts';

/**
 * Builds a searchset Bundle as text. Stored bodies are spliced in as they are, unparsed: the
 * store keeps each item exactly as it is served, so a record open never re-serialises thousands
 * of resources. The Patient is the match of a Patient search, and an include of $everything.
 */
export function searchsetBundle(
  baseUrl: string,
  patient: { resource: Patient; mode: 'match' | 'include' } | undefined,
  rows: ItemRow[],
  outcome?: OperationOutcome,
): string {
  const parts: string[] = [];
  if (patient) {
    const p = patient.resource;
    parts.push(
      `{"fullUrl":"${baseUrl}/Patient/${p.id}","resource":${JSON.stringify(p)},"search":{"mode":"${patient.mode}"}}`,
    );
  }
  for (const r of rows) {
    parts.push(
      `{"fullUrl":"${baseUrl}/${r.resourceType}/${r.id}","resource":${r.body},"search":{"mode":"match"}}`,
    );
  }
  if (outcome) parts.push(`{"resource":${JSON.stringify(outcome)},"search":{"mode":"outcome"}}`);
  const total = rows.length + (patient?.mode === 'match' ? 1 : 0);
  const lastUpdated = new Date().toISOString();
  return `{"resourceType":"Bundle","type":"searchset","meta":{"lastUpdated":"${lastUpdated}"},"total":${total},"entry":[${parts.join(',')}]}`;
}
