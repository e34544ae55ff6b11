/**
 * The privacy decision for one read of one person's record: pure, so it is tested by table.
 * Sensitive items (and items linked to them) are withheld for everyone in the store's SQL; this adds
 * the person's objections, less any override in force for this reader.
 */
import type { PolicyFilter } from '../store/index.ts';
import type { Objection, ObjectionScope } from './objections.ts';
import type { Override, OverrideGround } from './overrides.ts';

export interface RecordNotice {
  scope: ObjectionScope;
  target: string | null;
  /** set when an override lifts this objection for this reader */
  overridden?: { ground: OverrideGround; until: string };
}

export interface RecordDecision {
  /** a whole-record objection is in force: show only that the record is withheld */
  withheld: boolean;
  filter: PolicyFilter;
  /** reason codes for the audit trail, e.g. "objection-organisation" */
  reasons: string[];
  /** what the person objected to, so staff can talk about it (never the withheld data) */
  notices: RecordNotice[];
}

export interface Reader {
  org: string;
}

/** The override in force now for this reader, if any. */
function overrideFor(o: Objection, overrides: Override[], reader: Reader, now: Date): Override | undefined {
  return overrides.find(
    (v) =>
      v.objectionId === o.id &&
      v.endedAt === null &&
      new Date(v.startsAt) <= now &&
      new Date(v.endsAt) > now &&
      (v.forOrg === null || v.forOrg === reader.org),
  );
}

export function decideRecord(
  objections: Objection[],
  overrides: Override[] = [],
  reader: Reader = { org: '' },
  now: Date = new Date(),
): RecordDecision {
  const live = objections.filter((o) => o.withdrawnAt === null);
  const notices: RecordNotice[] = [];
  const upheld: Objection[] = [];
  const reasons = new Set(['sensitive-codes-excluded']);
  for (const o of live) {
    const v = overrideFor(o, overrides, reader, now);
    reasons.add(`objection-${o.scope}`);
    if (v) {
      reasons.add(`objection-overridden-${v.ground}`);
      notices.push({ scope: o.scope, target: o.target, overridden: { ground: v.ground, until: v.endsAt } });
    } else {
      upheld.push(o);
      notices.push({ scope: o.scope, target: o.target });
    }
  }
  const pick = (scope: ObjectionScope) => upheld.filter((o) => o.scope === scope).map((o) => o.target!);
  const filter: PolicyFilter = {
    kind: 'policy-filter',
    excludeOrgs: pick('organisation'),
    excludeSections: pick('category'),
    excludeIds: pick('item'),
  };
  return { withheld: upheld.some((o) => o.scope === 'record'), filter, reasons: [...reasons], notices };
}
