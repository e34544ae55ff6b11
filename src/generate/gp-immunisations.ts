/**
 * Immunisations a GP record holds: the childhood schedule, seasonal flu and COVID-19 campaigns,
 * pneumococcal at 65 and shingles at 70.
 */
import type { Immunization } from '@medplum/fhirtypes';
import { DAY_MS, YEAR_MS, formatInstant, formatDate, toSnomed, type SourceContext } from './fhir-build.ts';
import { VACCINES, type Coded } from './gp-codes.ts';
import type { PersonPlan } from './plan.ts';

const WEEK_MS = 7 * DAY_MS;

function addImmunisation(ctx: SourceContext, vaccine: Coded, t: number): void {
  if (t < ctx.from || t > ctx.now) return;
  const immunisation: Immunization = {
    resourceType: 'Immunization',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    status: 'completed',
    vaccineCode: toSnomed(vaccine),
    patient: ctx.patientRef,
    occurrenceDateTime: formatInstant(t),
    recorded: formatDate(t),
    primarySource: true,
    lotNumber: ctx.rng.hex(6).toUpperCase(),
  };
  ctx.add(immunisation);
}

function addChildhoodImmunisations(ctx: SourceContext, birth: number): void {
  const { rng } = ctx;
  const at = (weeks: number): number => ctx.atClinicHours(birth + (weeks + rng.int(0, 3)) * WEEK_MS);
  for (const w of [8, 12, 16]) addImmunisation(ctx, VACCINES.sixInOne, at(w));
  for (const w of [8, 16, 52]) addImmunisation(ctx, VACCINES.menB, at(w));
  addImmunisation(ctx, VACCINES.mmr, at(52));
  addImmunisation(ctx, VACCINES.mmr, at(174));
  addImmunisation(ctx, VACCINES.hpv, at(12.5 * 52));
  addImmunisation(ctx, VACCINES.tetanus, at(14 * 52));
}

function addSeasonalImmunisations(ctx: SourceContext, plan: PersonPlan): void {
  const { rng } = ctx;
  const birth = plan.truth.birthMs;
  const atRisk = plan.conditions.length > 0;
  const uptake = plan.age >= 65 ? 0.8 : atRisk ? 0.5 : 0;
  const fromYear = new Date(ctx.from).getUTCFullYear();
  const toYear = new Date(ctx.now).getUTCFullYear();
  for (let year = fromYear; year <= toYear; year++) {
    const autumn = Date.UTC(year, 9, 1) + rng.int(0, 60) * DAY_MS;
    const ageThen = (autumn - birth) / YEAR_MS;
    if (ageThen >= 18 && (ageThen >= 65 ? rng.chance(0.8) : rng.chance(uptake))) {
      addImmunisation(ctx, VACCINES.flu, ctx.atClinicHours(autumn));
    }
  }
  if (plan.age >= 18 && rng.chance(plan.age >= 50 || atRisk ? 0.9 : 0.65)) {
    const doses = [Date.UTC(2021, 0, 15), Date.UTC(2021, 3, 10), Date.UTC(2021, 9, 20)];
    if (plan.age >= 50 || atRisk)
      doses.push(Date.UTC(2022, 9, 1), Date.UTC(2023, 9, 15), Date.UTC(2024, 9, 10));
    const lag = (plan.age >= 65 ? 0 : 40 + rng.int(0, 50)) * DAY_MS;
    for (const d of doses) addImmunisation(ctx, VACCINES.covid, ctx.atClinicHours(d + lag));
  }
  const at = (years: number): number => birth + years * YEAR_MS + rng.int(0, 200) * DAY_MS;
  if (rng.chance(0.7)) addImmunisation(ctx, VACCINES.pneumo, ctx.atClinicHours(at(65)));
  if (rng.chance(0.6)) addImmunisation(ctx, VACCINES.shingles, ctx.atClinicHours(at(70)));
}

export function writeGpImmunisations(ctx: SourceContext, plan: PersonPlan): void {
  const birth = plan.truth.birthMs;
  if (birth >= ctx.from) addChildhoodImmunisations(ctx, birth);
  addSeasonalImmunisations(ctx, plan);
}
