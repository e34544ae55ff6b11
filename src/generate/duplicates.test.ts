/**
 * The demo region holds what reconciliation is for, so the demo shows it: the same clinic letter
 * and discharge summary held by the GP and the hospital, one visit sent as an appointment and as an
 * attendance, the same medicine from both (now and then at a different dose), and an allergy the
 * GP records and the hospital refuted. Judged by the shipped rules (config/reconcile-rules.json).
 */
import { describe, expect, it } from 'vitest';
import { loadReconcileRules, reconcile, type ReconciledGroup, type SourceItem } from '../reconcile/index.ts';
import { generatePerson } from './person.ts';
import { regionSpec } from './region-spec.ts';
import { TEST_NOW, TEST_SEED } from './test-helpers.ts';

const spec = regionSpec();
const rules = loadReconcileRules();
const orgOf = new Map(spec.sources.map((s) => [s.id, s.org]));

function groupsOf(index: number): { groups: ReconciledGroup[]; byId: Map<string, SourceItem> } {
  const person = generatePerson(spec, index, TEST_SEED, TEST_NOW);
  const items: SourceItem[] = [];
  for (const [source, resources] of person.bySource)
    for (const r of resources.slice(1))
      items.push({
        id: `${source}/${r.id}`,
        resourceType: r.resourceType,
        person: String(index),
        resource: r,
        sourceOrg: orgOf.get(source) ?? source,
        sourceOrgName: source,
        sourceSystem: source,
      });
  return { groups: reconcile(items, rules), byId: new Map(items.map((i) => [i.id, i])) };
}

describe('the demo region’s duplicates across sources', () => {
  const seen = { clinicLetter: 0, discharge: 0, visit: 0, medication: 0, dose: 0, refutedAllergy: 0 };
  for (let i = 0; i < 150; i++) {
    const { groups, byId } = groupsOf(i);
    for (const g of groups) {
      if (g.itemIds.length < 2) continue;
      const orgs = new Set(g.mentions.map((m) => m.sourceOrg)).size;
      const types = new Set(g.mentions.map((m) => m.resourceType));
      const code = (byId.get(g.itemIds[0]!)!.resource as { type?: { coding?: { code?: string }[] } }).type
        ?.coding?.[0]?.code;
      if (g.rule === 'document' && orgs > 1 && code === '371531000') seen.clinicLetter++;
      if (g.rule === 'document' && orgs > 1 && code === '373942005') seen.discharge++;
      if (g.rule === 'visit' && types.has('Appointment') && types.has('Encounter')) seen.visit++;
      if (g.rule === 'medication' && orgs > 1) seen.medication++;
      if (g.conflicts.some((c) => c.field === 'dose')) seen.dose++;
      if (g.rule === 'allergy' && g.conflicts.some((c) => c.field === 'verification')) seen.refutedAllergy++;
    }
  }
  it.each(Object.keys(seen) as (keyof typeof seen)[])('has %s among 150 people', (kind) => {
    expect(seen[kind]).toBeGreaterThan(0);
  });
});
