/**
 * Items that several sources report are one entry with every source visible: a GP's "Hypertension"
 * and the hospital's are the same problem; the lab's HbA1c and the hospital's copy of it are the
 * same result. Where the sources disagree (a problem active in one and resolved in another, an
 * allergy's severity, a result's value), the entry is marked as a conflict and says how.
 */
import { capitalise } from './format.ts';
import { byDateDesc, type Item } from './item.ts';
import type { Provenance } from './provenance.ts';

export interface Group {
  key: string;
  /** the newest item: what the row shows */
  primary: Item;
  items: Item[];
  /** each organisation that reports it, once */
  sources: Provenance[];
  at?: number;
  /** how the sources disagree, if they do */
  conflict?: string;
}

/** Things that stay true (a problem, an allergy, a medicine) group by concept; events also by when. */
const STATE_TYPES = new Set(['Condition', 'AllergyIntolerance']);

function family(type: string): string {
  if (type.startsWith('Medication')) return 'Medication';
  return type;
}

export function groupKey(item: Item): string {
  const base = `${family(item.type)}|${item.key || item.title.toLowerCase() || item.id}`;
  if (STATE_TYPES.has(item.type) || item.type.startsWith('Medication')) return base;
  // Events: the same thing at the same minute (lab and hospital copies of one result); documents
  // and appointments on the same day.
  const when = item.date ?? '';
  const precision = item.type === 'Observation' || item.type === 'DiagnosticReport' ? 16 : 10;
  return when ? `${base}@${when.slice(0, precision)}` : `${base}#${item.id}`;
}

/** What must agree between sources for each type (else: conflict). */
function comparable(item: Item): string {
  switch (item.type) {
    case 'Condition':
    case 'AllergyIntolerance':
      return capitalise(item.status);
    case 'Observation':
      return item.value ?? '';
    default:
      return '';
  }
}

function describeConflict(items: Item[]): string | undefined {
  const byValue = new Map<string, Set<string>>();
  for (const i of items) {
    const v = comparable(i);
    if (!v) continue;
    const orgs = byValue.get(v) ?? new Set<string>();
    orgs.add(i.prov.orgName);
    byValue.set(v, orgs);
  }
  if (byValue.size < 2) {
    if (items[0]?.type !== 'AllergyIntolerance') return undefined;
    // allergies: the reactions and criticality must agree too
    const details = new Map<string, Set<string>>();
    for (const i of items) details.set(i.detail, (details.get(i.detail) ?? new Set()).add(i.prov.orgName));
    if (details.size < 2) return undefined;
    return [...details].map(([d, o]) => `${d || 'no details'} (${[...o].join(', ')})`).join(' vs ');
  }
  return [...byValue].map(([v, o]) => `${v} (${[...o].join(', ')})`).join(' vs ');
}

export function groupItems(items: Item[]): Group[] {
  const groups = new Map<string, Item[]>();
  for (const item of items) {
    const k = groupKey(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  const out: Group[] = [];
  for (const [key, list] of groups) {
    list.sort(byDateDesc);
    const sources = new Map<string, Provenance>();
    for (const i of list) if (!sources.has(i.prov.ods)) sources.set(i.prov.ods, i.prov);
    const primary = list[0]!;
    const conflict = list.length > 1 ? describeConflict(list) : undefined;
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
