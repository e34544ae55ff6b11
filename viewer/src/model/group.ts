/**
 * Items that several sources report are one entry with every source visible: the server
 * reconciles them (src/reconcile, GET /fhir/Patient/{id}/$reconciled) and says how they disagree;
 * the viewer only follows what it was told. An item the server grouped with nothing is an entry on
 * its own.
 */
import { byDateDesc, type Item } from './item.ts';
import type { Provenance } from './provenance.ts';

export interface Group {
  key: string;
  /** the newest item: what the row shows */
  primary: Item;
  /** every item of the group (all its sources' items, whether or not a filter shows them) */
  items: Item[];
  /** each organisation that reports it, once */
  sources: Provenance[];
  at?: number;
  /** how the sources disagree, if they do (the server's words) */
  conflict?: string;
}

export function groupItems(items: Item[]): Group[] {
  const seen = new Set<string>();
  const out: Group[] = [];
  for (const item of items) {
    const key = item.reconciled?.id ?? item.id;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = [...(item.reconciled?.members ?? [item])].sort(byDateDesc);
    const sources = new Map<string, Provenance>();
    for (const i of list) if (!sources.has(i.prov.ods)) sources.set(i.prov.ods, i.prov);
    const primary = list[0]!;
    const conflict = item.reconciled?.conflict;
    out.push({
      key,
      primary,
      items: list,
      sources: [...sources.values()],
      ...(primary.at !== undefined ? { at: primary.at } : {}),
      ...(conflict ? { conflict } : {}),
    });
  }
  return out.sort(byDateDesc);
}
