/**
 * Medications as the server grouped them (one medicine across sources and issues): a repeat
 * prescription issued forty times is one line ("40 issues, last 02/10/2026"), with every source
 * that records it, and the server's word on a different dose. A medicine
 * is current if a source says it is active (or on hold), or if it was issued recently; otherwise it
 * is past.
 */
import { groupItems, type Group } from './group.ts';
import type { Item } from './item.ts';

const CURRENT_STATUSES = new Set(['active', 'on-hold', 'intended', 'draft']);
/** a repeat issued within this many days is taken as current even if its last issue is completed */
export const RECENT_ISSUE_DAYS = 92;

export interface MedicationGroup extends Group {
  current: boolean;
  /** active (or on hold…) if a source says so; issued-recently; else the newest entry's status */
  status: string;
  issues: number;
  firstAt?: number;
  /** the newest entry's dosage (a different dose from another source is the server's conflict) */
  dosage: string;
}

export function medicationGroups(items: Item[], now = Date.now()): MedicationGroup[] {
  const byMedicine = groupItems(items);
  return byMedicine.map((g) => {
    const recent = g.items.some(
      (i) =>
        i.type === 'MedicationRequest' && i.at !== undefined && now - i.at < RECENT_ISSUE_DAYS * 86_400_000,
    );
    // the newest record from each source decides that source's view
    const latestBySource = new Map<string, Item>();
    for (const i of g.items) if (!latestBySource.has(i.prov.ods)) latestBySource.set(i.prov.ods, i);
    const stated = g.items.find((i) => i.type !== 'MedicationRequest' && CURRENT_STATUSES.has(i.status));
    const current =
      recent || !!stated || [...latestBySource.values()].some((i) => CURRENT_STATUSES.has(i.status));
    const status = stated?.status ?? (recent ? 'issued-recently' : g.primary.status);
    const dated = g.items.filter((i) => i.at !== undefined);
    const firstAt = dated.length ? Math.min(...dated.map((i) => i.at!)) : undefined;
    return {
      ...g,
      current,
      status,
      issues: g.items.filter((i) => i.type === 'MedicationRequest').length,
      ...(firstAt !== undefined ? { firstAt } : {}),
      dosage: g.primary.detail,
    };
  });
}
