/**
 * Properties of reconciliation over random records of several people from several sources:
 * it never joins two people's items, never loses or repeats an item, and never hides a
 * disagreement between sources (checked against a plain re-statement of the rule: each source's
 * newest word on a field; two sources in different classes must be reported).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conflictValue, type SourceItem } from './fields.ts';
import { conflictClass, reconcile } from './reconcile.ts';
import { loadReconcileRules } from './rules.ts';
import { allergy, GP, HOSPITAL, item, LAB, medication } from './test-items.ts';

const rules = loadReconcileRules();
const SOURCES = [GP, HOSPITAL, LAB];
const PEOPLE = ['person-a', 'person-b', 'person-c'];
const ALLERGENS: [string, string][] = [
  ['764146007', 'Penicillin'],
  ['387207008', 'Ibuprofen'],
];
const MEDICINES: [string, string][] = [
  ['322236009', 'Metformin 500mg tablets'],
  ['318858002', 'Ramipril 5mg capsules'],
];
const VERIFICATION = ['confirmed', 'unconfirmed', 'refuted', undefined];
const DOSES = ['1 tablet daily', 'One tablet daily', '2 tablets daily'];

const spec = fc.record({
  person: fc.integer({ min: 0, max: PEOPLE.length - 1 }),
  source: fc.integer({ min: 0, max: SOURCES.length - 1 }),
  kind: fc.constantFrom('allergy', 'medication', 'visit'),
  which: fc.integer({ min: 0, max: 1 }),
  variant: fc.integer({ min: 0, max: 3 }),
  criticality: fc.constantFrom('low', 'high', undefined),
});

type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

function build(specs: Spec[], days: number[]): SourceItem[] {
  return specs.map((s, i) => {
    // distinct dates: "newest" is never a tie
    const date = new Date(Date.UTC(2020, 0, 1) + days[i]! * 3_600_000).toISOString();
    const source = SOURCES[s.source]!;
    const person = PEOPLE[s.person]!;
    const id = `i${i}`;
    if (s.kind === 'allergy') {
      const [code, name] = ALLERGENS[s.which]!;
      const v = VERIFICATION[s.variant];
      const a = allergy(code, name, v ?? 'confirmed', {
        id,
        recordedDate: date,
        ...(s.criticality ? { criticality: s.criticality } : {}),
      });
      if (!v) delete (a as { verificationStatus?: unknown }).verificationStatus;
      return item(source, a, person);
    }
    if (s.kind === 'medication') {
      const [code, name] = MEDICINES[s.which]!;
      const type = s.variant % 2 ? 'MedicationRequest' : 'MedicationStatement';
      const dated = type === 'MedicationRequest' ? { authoredOn: date } : { dateAsserted: date };
      return item(source, medication(type, code, name, DOSES[s.variant % 3]!, { id, ...dated }), person);
    }
    const visit =
      s.which === 0
        ? {
            resourceType: 'Appointment',
            id,
            status: s.variant === 3 ? 'cancelled' : 'fulfilled',
            start: date,
          }
        : { resourceType: 'Encounter', id, status: 'finished', period: { start: date } };
    return item(source, visit, person);
  });
}

const records = fc
  .array(spec, { minLength: 1, maxLength: 40 })
  .chain((specs) =>
    fc
      .uniqueArray(fc.integer({ min: 0, max: 20_000 }), { minLength: specs.length, maxLength: specs.length })
      .map((days) => build(specs, days)),
  );

describe('reconciliation properties', () => {
  it('never joins items of different people', () => {
    fc.assert(
      fc.property(records, (items) => {
        for (const g of reconcile(items, rules)) {
          const people = new Set(g.itemIds.map((id) => items.find((i) => i.id === id)!.person));
          expect(people.size).toBe(1);
          expect([...people][0]).toBe(g.person);
        }
      }),
    );
  });

  it('never drops or repeats an item, and shows a source for each', () => {
    fc.assert(
      fc.property(records, (items) => {
        const groups = reconcile(items, rules);
        const ids = groups.flatMap((g) => g.itemIds).sort();
        expect(ids).toEqual(items.map((i) => i.id).sort());
        for (const g of groups) expect(g.mentions.map((m) => m.itemId)).toEqual(g.itemIds);
      }),
    );
  });

  it("joins one person's reports of one allergen or medicine, from any source", () => {
    fc.assert(
      fc.property(records, (items) => {
        const groupOf = new Map<string, string>();
        for (const g of reconcile(items, rules)) for (const id of g.itemIds) groupOf.set(id, g.id);
        const byThing = new Map<string, string>();
        for (const i of items) {
          if (i.resourceType === 'Appointment' || i.resourceType === 'Encounter') continue;
          const r = i.resource as {
            code?: { coding: { code: string }[] };
            medicationCodeableConcept?: { coding: { code: string }[] };
          };
          const code = (r.code ?? r.medicationCodeableConcept)!.coding[0]!.code;
          const key = `${i.person}|${code}`;
          const seen = byThing.get(key);
          if (seen) expect(groupOf.get(i.id)).toBe(seen);
          else byThing.set(key, groupOf.get(i.id)!);
        }
      }),
    );
  });

  it('never hides a disagreement between sources', () => {
    fc.assert(
      fc.property(records, (items) => {
        const byId = new Map(items.map((i) => [i.id, i]));
        for (const g of reconcile(items, rules)) {
          const members = g.itemIds.map((id) => byId.get(id)!);
          const rule = rules.rules.find((r) => r.types.includes(members[0]!.resourceType));
          for (const c of rule?.conflicts ?? []) {
            // each source's newest item that says something on the field
            const newest = new Map<string, { at: number; cls: string }>();
            for (const m of members) {
              const cls = conflictClass(c, conflictValue(c.field, m.resource));
              if (cls === undefined) continue;
              const r = m.resource as { recordedDate?: string; authoredOn?: string; dateAsserted?: string };
              const at = Date.parse(r.recordedDate ?? r.authoredOn ?? r.dateAsserted!);
              const prior = newest.get(m.sourceOrg);
              if (!prior || at > prior.at) newest.set(m.sourceOrg, { at, cls });
            }
            const disagree = new Set([...newest.values()].map((v) => v.cls)).size > 1;
            expect(g.conflicts.some((x) => x.field === c.field)).toBe(disagree);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
