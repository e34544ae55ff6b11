/**
 * A record as read from `$reconciled`: the combined Patient, the items (each as its source sent
 * it), the server's groups of items that are one thing (List resources), how current each source
 * is (Bundle.meta), and the notices.
 */
import type { Bundle, Extension, List, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { byDateDesc, toItem, type Item } from './item.ts';
import { noticesOf, type Notice } from './notices.ts';

const SD = 'https://sharedcare.dev/fhir/StructureDefinition';
const RECONCILIATION_SYSTEM = 'https://sharedcare.dev/fhir/CodeSystem/reconciliation';

/** How current one contributing source is, as the server said with the record. */
export interface SourceCurrency {
  ods: string;
  orgName: string;
  sourceSystem: string;
  mode: string;
  /** when the source last sent anything */
  lastReceived?: string;
  /** when the newest of this person's items from it arrived */
  lastReceivedForPerson?: string;
}

export interface RecordData {
  patient?: Patient;
  items: Item[];
  byId: Map<string, Item>;
  notices: Notice[];
  currency: SourceCurrency[];
}

const part = (e: Extension, url: string) => e.extension?.find((x) => x.url === url);

function currencyOf(bundle: Bundle): SourceCurrency[] {
  const meta = bundle.meta as { extension?: Extension[] } | undefined;
  return (meta?.extension ?? [])
    .filter((e) => e.url === `${SD}/source-currency`)
    .map((e) => {
      const org = part(e, 'organisation')?.valueReference;
      const last = part(e, 'lastReceived')?.valueInstant;
      const mine = part(e, 'lastReceivedForPerson')?.valueInstant;
      return {
        ods: org?.identifier?.value ?? '',
        orgName: org?.display ?? org?.identifier?.value ?? '',
        sourceSystem: part(e, 'sourceSystem')?.valueString ?? '',
        mode: part(e, 'mode')?.valueCode ?? 'live',
        ...(last ? { lastReceived: last } : {}),
        ...(mine ? { lastReceivedForPerson: mine } : {}),
      };
    });
}

/** Marks each item the server grouped with the group's members and its conflict. */
function applyGroups(lists: List[], byId: Map<string, Item>): void {
  for (const list of lists) {
    if (!list.code?.coding?.some((c) => c.system === RECONCILIATION_SYSTEM)) continue;
    const members = (list.entry ?? []).flatMap((e) => {
      const item = byId.get(e.item.reference?.split('/')[1] ?? '');
      return item ? [item] : [];
    });
    const conflict = (list.extension ?? [])
      .filter((e) => e.url === `${SD}/reconciliation-conflict`)
      .map((e) => part(e, 'text')?.valueString ?? '')
      .filter(Boolean)
      .join('; ');
    const reconciled = { id: list.id ?? members[0]?.id ?? '', members, ...(conflict ? { conflict } : {}) };
    for (const m of members) m.reconciled = reconciled;
  }
}

export function parseRecord(bundle: Bundle): RecordData {
  let patient: Patient | undefined;
  let outcome: OperationOutcome | undefined;
  const items: Item[] = [];
  const lists: List[] = [];
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource as Resource | undefined;
    if (!r) continue;
    if (r.resourceType === 'Patient') patient = r;
    else if (r.resourceType === 'OperationOutcome' || entry.search?.mode === 'outcome')
      outcome = r as OperationOutcome;
    else if (r.resourceType === 'List' && entry.search?.mode === 'include') lists.push(r);
    // a Provenance per item says what the item's own provenance extension says (read by toItem)
    else if (r.resourceType === 'Provenance' && entry.search?.mode === 'include') continue;
    else items.push(toItem(r));
  }
  items.sort(byDateDesc);
  const byId = new Map(items.map((i) => [i.id, i]));
  applyGroups(lists, byId);
  return {
    ...(patient ? { patient } : {}),
    items,
    byId,
    notices: noticesOf(outcome),
    currency: currencyOf(bundle),
  };
}
