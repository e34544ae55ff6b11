/**
 * "Copy reference": a citation for the clinician's own notes, e.g. "HbA1c 48 mmol/mol, Royal Free
 * Hospital, 15/04/2022, viewed on the Shared Care Record 23/08/2022". It copies what is on screen,
 * never the record: no identifiers beyond what the clinician already has in front of them.
 */
import { formatDate } from './format.ts';
import type { Item } from './item.ts';

export function referenceText(item: Item, viewedOn = new Date()): string {
  const what = [item.title, item.value].filter(Boolean).join(' ');
  const today = formatDate(viewedOn.toISOString());
  return [what, item.prov.orgName, formatDate(item.date), `viewed on the Shared Care Record ${today}`]
    .filter(Boolean)
    .join(', ');
}
