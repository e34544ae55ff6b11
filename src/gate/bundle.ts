import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { ItemRow } from '../store/index.ts';

/**
 * Builds a searchset Bundle as text. Stored bodies are spliced in as they are, unparsed: the
 * store keeps each item exactly as it is served, so a record open never re-serialises thousands
 * of resources.
 */
export function searchsetBundle(
  baseUrl: string,
  patient: Patient | undefined,
  rows: ItemRow[],
  outcome?: OperationOutcome,
): string {
  const parts: string[] = [];
  if (patient)
    parts.push(
      `{"fullUrl":"${baseUrl}/Patient/${patient.id}","resource":${JSON.stringify(patient)},"search":{"mode":"include"}}`,
    );
  for (const r of rows)
    parts.push(
      `{"fullUrl":"${baseUrl}/${r.resourceType}/${r.id}","resource":${r.body},"search":{"mode":"match"}}`,
    );
  if (outcome) parts.push(`{"resource":${JSON.stringify(outcome)},"search":{"mode":"outcome"}}`);
  return `{"resourceType":"Bundle","type":"searchset","meta":{"lastUpdated":"${new Date().toISOString()}"},"total":${rows.length},"entry":[${parts.join(',')}]}`;
}
