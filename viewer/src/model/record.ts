/** A record as read from `$everything`: the combined Patient, the items, and the notices. */
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { byDateDesc, toItem, type Item } from './item.ts';
import { noticesOf, type Notice } from './notices.ts';

export interface RecordData {
  patient?: Patient;
  items: Item[];
  byId: Map<string, Item>;
  notices: Notice[];
}

export function parseEverything(bundle: Bundle): RecordData {
  let patient: Patient | undefined;
  let outcome: OperationOutcome | undefined;
  const items: Item[] = [];
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource as Resource | undefined;
    if (!r) continue;
    if (r.resourceType === 'Patient') patient = r;
    else if (r.resourceType === 'OperationOutcome' || entry.search?.mode === 'outcome')
      outcome = r as OperationOutcome;
    else items.push(toItem(r));
  }
  items.sort(byDateDesc);
  return {
    ...(patient ? { patient } : {}),
    items,
    byId: new Map(items.map((i) => [i.id, i])),
    notices: noticesOf(outcome),
  };
}
