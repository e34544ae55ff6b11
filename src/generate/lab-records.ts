/**
 * The private pathology lab: a few reports (thyroid, lipids, HbA1c, vitamin D, ferritin, PSA) with
 * no encounters, as a lab system sends them.
 */
import { DAY_MS, type SourceContext } from './fhir-build.ts';
import { PRIVATE_LAB_PANELS } from './hospital-codes.ts';
import { addLabReport } from './labs.ts';
import type { SourceIdentity } from './identity.ts';
import type { PersonPlan } from './plan.ts';

/** The lab's letters are its reports, so it needs no copy of the identity beyond its Patient. */
export function writeLabRecord(ctx: SourceContext, plan: PersonPlan, _who?: SourceIdentity): void {
  const { rng, now } = ctx;
  const panels = PRIVATE_LAB_PANELS.filter(
    (p) => plan.truth.sex === 'male' || !p.display.startsWith('Prostate'),
  );
  const reports = 1 + rng.count(plan.heavy ? 6 : 1.5);
  for (let i = 0; i < reports; i++) {
    const t = i === 0 && rng.chance(0.5) ? ctx.clinicTime(now - 330 * DAY_MS) : ctx.clinicTime();
    addLabReport(ctx, rng.pick(panels), t, { illness: 0.2 });
  }
}
