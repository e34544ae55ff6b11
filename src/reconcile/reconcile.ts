/**
 * Reconciliation: which of a person's items, from whichever sources, are one and the same thing,
 * and where the sources disagree. Pure: items and rules in, groups out. Every item lands in exactly
 * one group (a group of one when nothing matches it); items of different people are never joined
 * (the person is part of every match key); a disagreement between sources is always reported.
 */
import { deterministicUuid } from '../fhir/index.ts';
import {
  comparable,
  conflictValue,
  matchValues,
  timeOf,
  wordingOf,
  type ConflictField,
  type SourceItem,
} from './fields.ts';
import type { ConflictRule, ReconcileRule, ReconcileRules } from './rules.ts';

/** One source's report of the thing: who, when, in their words. */
export interface Mention {
  itemId: string;
  resourceType: string;
  sourceOrg: string;
  sourceOrgName: string;
  sourceSystem: string;
  received?: string;
  /** when it happened, as that source says */
  date?: string;
  wording: string;
}

export interface ConflictPosition {
  /** the value as recorded (the first source's wording of it) */
  value: string;
  /** the organisations (ODS codes) that hold it, and the items that say it */
  sourceOrgs: string[];
  itemIds: string[];
}

export interface Conflict {
  field: ConflictField;
  label: string;
  positions: ConflictPosition[];
}

export interface ReconciledGroup {
  id: string;
  /** the rule that joined the items (undefined: an item no rule covers, on its own) */
  rule?: string;
  label?: string;
  person: string;
  /** newest first */
  itemIds: string[];
  mentions: Mention[];
  conflicts: Conflict[];
}

class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[i] !== r) {
      const next = this.parent[i]!;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** Every combination of the fields' values, as keys; none when a field is missing. */
function keysOf(item: SourceItem, fields: readonly string[], valuesOf: (f: string) => string[]): string[] {
  let keys = [`${item.person}`];
  for (const f of fields) {
    const values = [...new Set(valuesOf(f))];
    if (values.length === 0) return [];
    keys = keys.flatMap((k) => values.map((v) => `${k}\u0001${f}=${v}`));
  }
  return keys;
}

const millis = (t: string | undefined): number | undefined => (t ? Date.parse(t) : undefined);

function joinByRule(rule: ReconcileRule, items: SourceItem[], idx: number[], uf: UnionFind, at: Times): void {
  const excluded = new Set(rule.excludeStatus);
  const candidates = idx.filter((i) => {
    const status = (items[i]!.resource as { status?: unknown }).status;
    return !(typeof status === 'string' && excluded.has(status));
  });
  rule.sameWhen.forEach((fields, alt) => {
    const buckets = new Map<string, number[]>();
    for (const i of candidates) {
      const item = items[i]!;
      const cache = new Map<string, string[]>();
      const valuesOf = (f: string) => {
        let v = cache.get(f);
        if (!v) cache.set(f, (v = matchValues(f as never, item)));
        return v;
      };
      for (const key of keysOf(item, fields, valuesOf)) {
        const k = `${alt}\u0002${key}`;
        const list = buckets.get(k);
        if (list) list.push(i);
        else buckets.set(k, [i]);
      }
    }
    for (const list of buckets.values()) {
      if (!rule.window) {
        for (const j of list) if (!rule.distinctTypes) uf.union(list[0]!, j);
        if (rule.distinctTypes) joinPairs(rule, items, list, uf, Infinity, at);
        continue;
      }
      joinPairs(rule, items, list, uf, rule.window.minutes * 60_000, at);
    }
  });
}

/** Joins the items of one bucket whose times are within `windowMs` (types differing, if asked). */
function joinPairs(
  rule: ReconcileRule,
  items: SourceItem[],
  list: number[],
  uf: UnionFind,
  windowMs: number,
  at: Times,
) {
  const timed = list
    .map((i) => ({ i, t: at.of(items[i]!) }))
    .filter((x) => x.t !== -Infinity)
    .sort((a, b) => a.t - b.t);
  for (let a = 0; a < timed.length; a++)
    for (let b = a + 1; b < timed.length && timed[b]!.t - timed[a]!.t <= windowMs; b++) {
      const x = items[timed[a]!.i]!;
      const y = items[timed[b]!.i]!;
      if (rule.distinctTypes && x.resourceType === y.resourceType) continue;
      uf.union(timed[a]!.i, timed[b]!.i);
    }
}

/** Each item's time (and time received) as milliseconds, worked out once: sorting asks often. */
class Times {
  private readonly when = new Map<SourceItem, number>();
  private readonly got = new Map<SourceItem, number>();
  of(item: SourceItem): number {
    let t = this.when.get(item);
    if (t === undefined) {
      t = millis(timeOf(item.resource)) ?? -Infinity;
      if (Number.isNaN(t)) t = -Infinity;
      this.when.set(item, t);
    }
    return t;
  }
  received(item: SourceItem): number {
    let t = this.got.get(item);
    if (t === undefined) this.got.set(item, (t = millis(item.received) ?? -Infinity));
    return t;
  }
  newestFirst = (a: SourceItem, b: SourceItem): number => {
    const ta = this.of(a);
    const tb = this.of(b);
    if (ta !== tb) return tb - ta;
    const ra = this.received(a);
    const rb = this.received(b);
    if (ra !== rb) return rb - ra;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

/** The class a conflict compares, or undefined when this item says nothing on it. */
export function conflictClass(c: ConflictRule, raw: string | undefined): string | undefined {
  if (raw === undefined) return c.otherwise;
  if (c.values) return c.values[raw] ?? c.otherwise ?? comparable(c.field, raw);
  return comparable(c.field, raw) ?? c.otherwise;
}

/**
 * Where the sources disagree: each source organisation's newest item that says something on the
 * field stands for that source; two sources in different classes are a conflict.
 */
function conflictsOf(rule: ReconcileRule, members: SourceItem[]): Conflict[] {
  const out: Conflict[] = [];
  for (const c of rule.conflicts) {
    const bySource = new Map<string, { cls: string; raw: string; item: SourceItem }>();
    for (const item of members) {
      if (bySource.has(item.sourceOrg)) continue; // members are newest first
      const raw = conflictValue(c.field, item.resource);
      const cls = conflictClass(c, raw);
      if (cls === undefined) continue;
      bySource.set(item.sourceOrg, { cls, raw: raw ?? '(not recorded)', item });
    }
    const byClass = new Map<string, ConflictPosition>();
    for (const [org, { cls, raw, item }] of bySource) {
      const p = byClass.get(cls) ?? { value: raw, sourceOrgs: [], itemIds: [] };
      p.sourceOrgs.push(org);
      p.itemIds.push(item.id);
      byClass.set(cls, p);
    }
    if (byClass.size > 1) out.push({ field: c.field, label: c.label, positions: [...byClass.values()] });
  }
  return out;
}

function mentionOf(item: SourceItem): Mention {
  const date = timeOf(item.resource);
  return {
    itemId: item.id,
    resourceType: item.resourceType,
    sourceOrg: item.sourceOrg,
    sourceOrgName: item.sourceOrgName,
    sourceSystem: item.sourceSystem,
    ...(item.received ? { received: item.received } : {}),
    ...(date ? { date } : {}),
    wording: wordingOf(item.resource),
  };
}

export function reconcile(items: SourceItem[], rules: ReconcileRules): ReconciledGroup[] {
  const ruleOf = new Map<string, ReconcileRule>();
  for (const r of rules.rules) for (const t of r.types) ruleOf.set(t, r);
  const uf = new UnionFind(items.length);
  const byRule = new Map<ReconcileRule, number[]>();
  items.forEach((item, i) => {
    const rule = ruleOf.get(item.resourceType);
    if (!rule) return;
    const list = byRule.get(rule);
    if (list) list.push(i);
    else byRule.set(rule, [i]);
  });
  const at = new Times();
  for (const [rule, idx] of byRule) joinByRule(rule, items, idx, uf, at);

  const groups = new Map<number, SourceItem[]>();
  items.forEach((item, i) => {
    const root = uf.find(i);
    const list = groups.get(root);
    if (list) list.push(item);
    else groups.set(root, [item]);
  });
  const out: ReconciledGroup[] = [];
  for (const members of groups.values()) {
    if (members.length > 1) members.sort(at.newestFirst);
    const rule = ruleOf.get(members[0]!.resourceType);
    const ids = members.map((m) => m.id);
    out.push({
      // a group of one is the item itself; a group of several gets a name-based id of its items
      id: ids.length === 1 ? ids[0]! : deterministicUuid(`reconciled:${[...ids].sort().join(',')}`),
      ...(rule ? { rule: rule.id, label: rule.label } : {}),
      person: members[0]!.person,
      itemIds: ids,
      mentions: members.map(mentionOf),
      conflicts: rule && members.length > 1 ? conflictsOf(rule, members) : [],
    });
  }
  return out;
}
