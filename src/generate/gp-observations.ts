/**
 * GP observations repeated over the years so trend charts make sense: blood pressure, weight and BMI,
 * HbA1c, cholesterol, eGFR, peak flow, PHQ-9 and smoking status. Values follow gentle random walks.
 */
import type { Observation, ObservationComponent } from '@medplum/fhirtypes';
import {
  DAY_MS,
  YEAR_MS,
  toCoding,
  formatInstant,
  toQuantity,
  toSnomed,
  type SourceContext,
} from './fhir-build.ts';
import type { Coded, Tracker } from './gp-codes.ts';
import type { PersonPlan } from './plan.ts';

const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
type Category = 'vital-signs' | 'laboratory' | 'survey' | 'social-history';

const CODES = {
  bp: { code: '75367002', display: 'Blood pressure' },
  systolic: { code: '271649006', display: 'Systolic blood pressure' },
  diastolic: { code: '271650006', display: 'Diastolic blood pressure' },
  weight: { code: '27113001', display: 'Body weight' },
  bmi: { code: '60621009', display: 'Body mass index' },
  hba1c: { code: '999791000000106', display: 'Haemoglobin A1c level - IFCC standardised' },
  cholesterol: { code: '1005671000000105', display: 'Serum cholesterol level' },
  egfr: { code: '1011481000000105', display: 'eGFR using creatinine (CKD-EPI) per 1.73 square metres' },
  peakflow: { code: '29893006', display: 'Peak expiratory flow rate' },
  phq9: { code: '720433000', display: 'Patient Health Questionnaire Nine Item score' },
  smoking: { code: '365980008', display: 'Tobacco use and exposure' },
} satisfies Record<string, Coded>;

const SMOKING: readonly Coded[] = [
  { code: '266919005', display: 'Never smoked tobacco' },
  { code: '8517006', display: 'Ex-smoker' },
  { code: '77176002', display: 'Smoker' },
];

function makeObservation(ctx: SourceContext, category: Category, code: Coded, t: number): Observation {
  return {
    resourceType: 'Observation',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    status: 'final',
    category: [{ coding: [toCoding(OBS_CATEGORY, category)] }],
    code: toSnomed(code),
    subject: ctx.patientRef,
    effectiveDateTime: formatInstant(t),
  };
}

function addNumber(
  ctx: SourceContext,
  category: Category,
  code: Coded,
  t: number,
  value: number,
  unit: string,
): void {
  ctx.add({ ...makeObservation(ctx, category, code, t), valueQuantity: toQuantity(value, unit) });
}

/** Visit times every ~intervalDays from start to now (with jitter), in clinic hours. */
function scheduleVisits(ctx: SourceContext, start: number, intervalDays: number): number[] {
  const times: number[] = [];
  let t = Math.max(start, ctx.from) + ctx.rng.next() * intervalDays * DAY_MS;
  while (t < ctx.now) {
    times.push(ctx.atClinicHours(t));
    t += intervalDays * DAY_MS * ctx.rng.between(0.75, 1.25);
  }
  return times;
}

function roundTo(v: number, decimals = 0): number {
  const s = 10 ** decimals;
  return Math.round(v * s) / s;
}

function writeBloodPressure(ctx: SourceContext, plan: PersonPlan, adultFrom: number, tracked: boolean): void {
  const { rng } = ctx;
  let base = 108 + Math.min(plan.age, 90) * 0.35 + (tracked ? 18 : 0) + rng.normal(0, 6);
  for (const t of scheduleVisits(ctx, adultFrom, tracked ? 120 : 540)) {
    base += tracked ? rng.normal(-0.6, 1.5) : rng.normal(0.1, 1);
    const systolic = roundTo(Math.max(95, base + rng.normal(0, 8)));
    const diastolic = roundTo(Math.max(55, systolic * 0.55 + rng.normal(8, 5)));
    const component: ObservationComponent[] = [
      { code: toSnomed(CODES.systolic), valueQuantity: toQuantity(systolic, 'mm[Hg]') },
      { code: toSnomed(CODES.diastolic), valueQuantity: toQuantity(diastolic, 'mm[Hg]') },
    ];
    ctx.add({ ...makeObservation(ctx, 'vital-signs', CODES.bp, t), component });
  }
}

function writeWeight(ctx: SourceContext, plan: PersonPlan, adultFrom: number, frequent: boolean): void {
  const { rng } = ctx;
  const height = plan.truth.sex === 'male' ? rng.normal(1.76, 0.07) : rng.normal(1.63, 0.06);
  const obese = plan.conditions.some((c) => c.def.key === 'obesity');
  let bmi = rng.normal(obese ? 34 : 26.5, 3.5);
  for (const t of scheduleVisits(ctx, adultFrom, frequent ? 180 : 480)) {
    bmi = Math.min(55, Math.max(16, bmi + rng.normal(0.1, 0.6)));
    addNumber(ctx, 'vital-signs', CODES.weight, t, roundTo(bmi * height * height, 1), 'kg');
    addNumber(ctx, 'vital-signs', CODES.bmi, t, roundTo(bmi, 1), 'kg/m2');
  }
}

function writeTracker(ctx: SourceContext, plan: PersonPlan, tracker: Tracker, onset: number): void {
  const { rng } = ctx;
  switch (tracker) {
    case 'hba1c': {
      let v = rng.normal(66, 9);
      for (const t of scheduleVisits(ctx, onset, 182)) {
        v += rng.normal(-1.5, 3) + (v < 48 ? 2 : 0);
        addNumber(ctx, 'laboratory', CODES.hba1c, t, roundTo(Math.max(38, v)), 'mmol/mol');
      }
      return;
    }
    case 'cholesterol': {
      let v = rng.normal(5.6, 0.8);
      for (const t of scheduleVisits(ctx, onset, 365)) {
        v = Math.max(2.8, v + rng.normal(-0.15, 0.3));
        addNumber(ctx, 'laboratory', CODES.cholesterol, t, roundTo(v, 1), 'mmol/L');
      }
      return;
    }
    case 'egfr': {
      const ckd = plan.conditions.some((c) => c.def.key === 'ckd');
      let v = ckd ? rng.normal(48, 6) : 95 - Math.max(0, plan.age - 40) * 0.6;
      for (const t of scheduleVisits(ctx, onset, ckd ? 182 : 365)) {
        v = Math.max(12, v + rng.normal(-0.8, 2.5));
        addNumber(ctx, 'laboratory', CODES.egfr, t, roundTo(Math.min(90, v)), 'mL/min/{1.73_m2}');
      }
      return;
    }
    case 'peakflow': {
      const best = plan.truth.sex === 'male' ? 560 : 430;
      for (const t of scheduleVisits(ctx, onset, 365)) {
        addNumber(
          ctx,
          'vital-signs',
          CODES.peakflow,
          t,
          roundTo(best * rng.between(0.65, 1.02), -1),
          'L/min',
        );
      }
      return;
    }
    case 'phq9': {
      let score = rng.int(12, 22);
      for (const t of scheduleVisits(ctx, onset, 120)) {
        score = Math.min(27, Math.max(0, score + rng.int(-4, 2)));
        addNumber(ctx, 'survey', CODES.phq9, t, score, '{score}');
      }
      return;
    }
    case 'bp':
      return;
  }
}

function writeSmoking(ctx: SourceContext, adultFrom: number): void {
  const status = ctx.rng.weighted([
    [0, 55],
    [1, 27],
    [2, 18],
  ]);
  const value = toSnomed(SMOKING[status] ?? { code: '266919005', display: 'Never smoked tobacco' });
  for (const t of scheduleVisits(ctx, adultFrom, 3 * 365)) {
    ctx.add({ ...makeObservation(ctx, 'social-history', CODES.smoking, t), valueCodeableConcept: value });
  }
}

export function writeGpObservations(ctx: SourceContext, plan: PersonPlan): void {
  const adultFrom = plan.truth.birthMs + 16 * YEAR_MS;
  if (adultFrom >= ctx.now) return;
  const tracks = new Map<Tracker, number>();
  for (const held of plan.conditions) {
    for (const tracker of held.def.tracks) {
      tracks.set(tracker, Math.min(tracks.get(tracker) ?? Infinity, Math.max(held.onset, adultFrom)));
    }
  }
  writeBloodPressure(ctx, plan, adultFrom, tracks.has('bp'));
  writeWeight(ctx, plan, adultFrom, tracks.has('hba1c'));
  writeSmoking(ctx, adultFrom);
  for (const [tracker, onset] of tracks) writeTracker(ctx, plan, tracker, onset);
}
