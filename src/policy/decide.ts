/**
 * The privacy decision for one read of one person's record: pure, so it is tested by table.
 * Sensitive items are withheld for everyone in the store's SQL; this adds the person's objections.
 */
import type { PolicyFilter } from '../store/index.ts';
import type { Objection, ObjectionScope } from './objections.ts';

export interface RecordDecision {
  /** a whole-record objection is in force: show only that the record is withheld */
  withheld: boolean;
  filter: PolicyFilter;
  /** reason codes for the audit trail, e.g. "objection-organisation" */
  reasons: string[];
  /** what the person objected to, so staff can talk about it (never the withheld data) */
  notices: { scope: ObjectionScope; target: string | null }[];
}

export function decideRecord(objections: Objection[]): RecordDecision {
  const live = objections.filter((o) => o.withdrawnAt === null);
  const pick = (scope: ObjectionScope) => live.filter((o) => o.scope === scope).map((o) => o.target!);
  const filter: PolicyFilter = {
    kind: 'policy-filter',
    excludeOrgs: pick('organisation'),
    excludeSections: pick('category'),
    excludeIds: pick('item'),
  };
  const withheld = live.some((o) => o.scope === 'record');
  const reasons = ['sensitive-codes-excluded', ...new Set(live.map((o) => `objection-${o.scope}`))];
  return { withheld, filter, reasons, notices: live.map((o) => ({ scope: o.scope, target: o.target })) };
}
