/**
 * The GP practice record: the problem list, repeat and acute medication, allergies and consultations
 * (observations, immunisations and correspondence live in their own files).
 */
import type {
  AllergyIntolerance,
  Encounter,
  MedicationRequest,
  MedicationStatement,
  Reference,
} from '@medplum/fhirtypes';
import { addAppointment, addCondition, addEncounter, referenceTo } from './clinical-build.ts';
import {
  DAY_MS,
  YEAR_MS,
  toConcept,
  toCoding,
  formatInstant,
  formatDate,
  toSnomed,
  type SourceContext,
} from './fhir-build.ts';
import { ACUTE_PROBLEMS, ALLERGENS, ANTIBIOTICS, DMD, REACTIONS, type Medicine } from './gp-codes.ts';
import { ENCOUNTER_TYPES } from './hospital-codes.ts';
import type { HeldCondition, PersonPlan } from './plan.ts';

const COURSE = 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy';
const REPEAT_INTERVAL_DAYS = 84;
const CLINICIANS = [
  'Dr A Okafor',
  'Dr S Patel',
  'Dr J Whitaker',
  'Nurse L Haworth',
  'Dr M Nowak',
  'Nurse K Bell',
];
const GP_SERVICE = {
  coding: [toCoding('http://snomed.info/sct', '394814009', 'General practice')],
  text: 'General practice',
};

function addIssue(
  ctx: SourceContext,
  med: Medicine,
  t: number,
  active: boolean,
  course: string,
): MedicationRequest {
  return ctx.add<MedicationRequest>({
    resourceType: 'MedicationRequest',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    status: active ? 'active' : 'completed',
    intent: 'order',
    courseOfTherapyType: { coding: [toCoding(COURSE, course)] },
    medicationCodeableConcept: toConcept(DMD, med),
    subject: ctx.patientRef,
    authoredOn: formatInstant(t),
    dosageInstruction: [{ text: med.dosage }],
  });
}

function writeRepeatMedicine(ctx: SourceContext, med: Medicine, onset: number): void {
  const { rng, now } = ctx;
  const start = onset + rng.between(0, 30) * DAY_MS;
  if (start >= now) return;
  const stopped = rng.chance(0.15) ? start + rng.next() * (now - start) : undefined;
  const statement: MedicationStatement = {
    resourceType: 'MedicationStatement',
    id: ctx.nextId(),
    meta: ctx.meta(stopped ?? start),
    status: stopped === undefined ? 'active' : 'stopped',
    medicationCodeableConcept: toConcept(DMD, med),
    subject: ctx.patientRef,
    effectivePeriod:
      stopped === undefined
        ? { start: formatDate(start) }
        : { start: formatDate(start), end: formatDate(stopped) },
    dateAsserted: formatInstant(start),
    dosage: [{ text: med.dosage }],
  };
  ctx.add(statement);
  const end = stopped ?? now;
  let t = Math.max(start, ctx.from + rng.next() * REPEAT_INTERVAL_DAYS * DAY_MS);
  while (t < end) {
    const next = t + (REPEAT_INTERVAL_DAYS + rng.int(-7, 7)) * DAY_MS;
    addIssue(ctx, med, ctx.atClinicHours(t), stopped === undefined && next >= end, 'continuous');
    t = next;
  }
}

function writeProblems(ctx: SourceContext, conditions: readonly HeldCondition[]): void {
  for (const held of conditions) {
    addCondition(ctx, { code: toSnomed(held.def), onset: held.onset, category: 'problem-list-item' });
    for (const med of held.meds) writeRepeatMedicine(ctx, med, held.onset);
  }
}

function addConsultation(
  ctx: SourceContext,
  t: number,
  reason?: { code: string; display: string },
): Reference<Encounter> {
  const { rng } = ctx;
  const phone = rng.chance(0.3);
  const clinician = rng.pick(CLINICIANS);
  if (rng.chance(0.7)) {
    addAppointment(ctx, { start: t, minutes: 10, status: 'fulfilled', serviceType: GP_SERVICE, clinician });
  }
  const encounter = addEncounter(ctx, {
    cls: phone ? 'VR' : 'AMB',
    type: toSnomed(phone ? ENCOUNTER_TYPES.gpPhone : ENCOUNTER_TYPES.gp),
    start: t,
    end: t + rng.int(8, 20) * 60_000,
    reason,
    serviceType: GP_SERVICE,
  });
  return referenceTo(encounter);
}

function writeConsultations(ctx: SourceContext, plan: PersonPlan): void {
  const { rng } = ctx;
  const years = (ctx.now - ctx.from) / YEAR_MS;
  const perYear = (1 + 0.4 * plan.conditions.length) * Math.sqrt(plan.intensity);
  for (let i = rng.count(years * perYear); i > 0; i--) {
    const held = plan.conditions.length > 0 && rng.chance(0.5) ? rng.pick(plan.conditions) : undefined;
    const t = ctx.clinicTime(held ? Math.max(held.onset, ctx.from) : ctx.from);
    addConsultation(ctx, t, held?.def);
  }
  for (let i = rng.count(years * 0.15); i > 0; i--) {
    const status = rng.chance(0.5) ? 'noshow' : 'cancelled';
    addAppointment(ctx, {
      start: ctx.clinicTime(),
      minutes: 10,
      status,
      serviceType: GP_SERVICE,
      clinician: 'GP',
    });
  }
  // Short illnesses: a consultation, a resolved problem and often an antibiotic.
  for (let i = rng.count(years * 0.3 * Math.sqrt(plan.intensity)); i > 0; i--) {
    const problem = rng.pick(ACUTE_PROBLEMS);
    const t = ctx.clinicTime();
    const encounter = addConsultation(ctx, t, problem);
    const abatement = Math.min(ctx.now, t + rng.int(5, 30) * DAY_MS);
    const resolved = abatement < ctx.now ? abatement : undefined;
    addCondition(ctx, {
      code: toSnomed(problem),
      onset: t,
      abatement: resolved,
      category: 'encounter-diagnosis',
      encounter,
    });
    if (rng.chance(0.6)) addIssue(ctx, rng.pick(ANTIBIOTICS), t, false, 'acute');
  }
}

const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';

function writeAllergies(ctx: SourceContext): void {
  const { rng } = ctx;
  const n = rng.chance(0.15) ? (rng.chance(0.2) ? 2 : 1) : 0;
  for (let i = 0; i < n; i++) {
    const which = i === 0 && rng.chance(0.5) ? 0 : rng.int(0, ALLERGENS.length - 1);
    const allergen = ALLERGENS[which] ?? rng.pick(ALLERGENS);
    const category = which < 7 ? 'medication' : which < 9 ? 'food' : 'environment';
    const t = ctx.clinicTime();
    const severe = rng.chance(0.1);
    const allergy: AllergyIntolerance = {
      resourceType: 'AllergyIntolerance',
      id: ctx.nextId(),
      meta: ctx.meta(t),
      clinicalStatus: { coding: [toCoding(ALLERGY_CLINICAL, 'active')] },
      verificationStatus: { coding: [toCoding(ALLERGY_VERIFICATION, 'confirmed')] },
      type: 'allergy',
      category: [category],
      criticality: severe ? 'high' : 'low',
      code: toSnomed(allergen),
      patient: ctx.patientRef,
      recordedDate: formatInstant(t),
      reaction: [
        {
          manifestation: [
            toSnomed(severe ? { code: '39579001', display: 'Anaphylaxis' } : rng.pick(REACTIONS)),
          ],
        },
      ],
    };
    ctx.add(allergy);
  }
}

export function writeGpClinical(ctx: SourceContext, plan: PersonPlan): void {
  writeAllergies(ctx);
  writeProblems(ctx, plan.conditions);
  writeConsultations(ctx, plan);
}
