/**
 * The acute trust's EPR: A&E attendances, admissions (with daily bloods, procedures and discharge
 * summaries), outpatient pathways (appointments, attendances, clinic letters) and GP-requested bloods.
 */
import type { Encounter, Procedure, Reference } from '@medplum/fhirtypes';
import { addAppointment, addCondition, addDocument, addEncounter, referenceTo } from './clinical-build.ts';
import { DAY_MS, YEAR_MS, formatInstant, toSnomed, type SourceContext } from './fhir-build.ts';
import type { Coded } from './gp-codes.ts';
import {
  CLINICS,
  CRP,
  DOCUMENT_TYPES,
  ENCOUNTER_TYPES,
  FBC,
  HBA1C,
  LFT,
  LIPIDS,
  PROCEDURES,
  TFT,
  UE,
  type Panel,
} from './hospital-codes.ts';
import type { SourceIdentity } from './identity.ts';
import { addLabReport } from './labs.ts';
import { attachLetter } from './letters.ts';
import type { Admission, Pathway, PersonPlan } from './plan.ts';

const HOUR_MS = 3_600_000;
const CONSULTANTS = ['Mr R Ashworth', 'Dr P Mensah', 'Dr H Sutcliffe', 'Ms C Lockwood', 'Dr F Chowdhury'];

function addProcedure(ctx: SourceContext, code: Coded, t: number, encounter: Reference<Encounter>): void {
  const procedure: Procedure = {
    resourceType: 'Procedure',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    status: 'completed',
    code: toSnomed(code),
    subject: ctx.patientRef,
    encounter,
    performedPeriod: { start: formatInstant(t), end: formatInstant(Math.min(ctx.now, t + HOUR_MS)) },
  };
  ctx.add(procedure);
}

function addBloods(
  ctx: SourceContext,
  panels: readonly Panel[],
  t: number,
  encounter: Reference<Encounter> | undefined,
  illness: number,
): void {
  for (const panel of panels) addLabReport(ctx, panel, t, { encounter, illness });
}

function writeEdVisits(ctx: SourceContext, plan: PersonPlan): void {
  const { rng } = ctx;
  for (const visit of plan.edVisits) {
    const end = Math.min(ctx.now, visit.start + rng.between(1.5, 9) * HOUR_MS);
    const encounter = referenceTo(
      addEncounter(ctx, {
        cls: 'EMER',
        type: toSnomed(ENCOUNTER_TYPES.ed),
        start: visit.start,
        end,
        reason: visit.reason,
      }),
    );
    if (rng.chance(0.7)) {
      const panels = rng.chance(0.5) ? [FBC, UE, CRP, LFT] : [FBC, UE, CRP];
      addBloods(ctx, panels, Math.min(ctx.now, visit.start + HOUR_MS), encounter, 0.6);
    }
    if (rng.chance(0.25)) {
      const investigation =
        PROCEDURES[rng.int(PROCEDURES.length - 3, PROCEDURES.length - 1)] ?? rng.pick(PROCEDURES);
      addProcedure(ctx, investigation, Math.min(ctx.now, visit.start + 2 * HOUR_MS), encounter);
    }
  }
}

function writeAdmission(ctx: SourceContext, plan: PersonPlan, a: Admission, who: SourceIdentity): void {
  const { rng } = ctx;
  const encounter = referenceTo(
    addEncounter(ctx, {
      cls: 'IMP',
      type: toSnomed(ENCOUNTER_TYPES.admission),
      start: a.start,
      end: a.end,
      reason: a.reason,
    }),
  );
  if (rng.chance(0.6)) {
    addCondition(ctx, {
      code: toSnomed(a.reason),
      onset: a.start,
      category: 'encounter-diagnosis',
      encounter,
      abatement: a.end,
    });
  }
  const last = a.end ?? ctx.now;
  const days = Math.min(plan.heavy ? 20 : 12, Math.ceil((last - a.start) / DAY_MS));
  for (let d = 0; d < days; d++) {
    const t = a.start + d * DAY_MS + (d === 0 ? HOUR_MS : 6 * HOUR_MS);
    if (t >= ctx.now) break;
    if (d === 0) addBloods(ctx, [FBC, UE, CRP, LFT], t, encounter, 0.5);
    else if (rng.chance(0.5)) addBloods(ctx, rng.chance(0.5) ? [FBC, UE, CRP] : [FBC, UE], t, encounter, 0.5);
  }
  if (rng.chance(0.35)) {
    addProcedure(
      ctx,
      rng.pick(PROCEDURES),
      Math.min(ctx.now, a.start + rng.between(4, 30) * HOUR_MS),
      encounter,
    );
  }
  if (a.end !== undefined) {
    // written three hours after discharge, the time the GP's copy carries (gp-correspondence.ts);
    // the old random delay is still drawn so the rest of the record stays as it was
    rng.between(1, 6);
    const t = Math.min(ctx.now, a.end + 3 * HOUR_MS);
    const body = [
      `Admitted ${formatInstant(a.start).slice(0, 10)} with ${a.reason.display.toLowerCase()}.`,
      `Discharged ${formatInstant(a.end).slice(0, 10)}. Consultant: ${rng.pick(CONSULTANTS)}.`,
      'GP actions: review medication and repeat bloods in two weeks.',
    ];
    const attachment = attachLetter(
      { from: ctx.org.name, title: 'Discharge summary', date: formatInstant(t), who, body },
      rng.chance(0.1),
    );
    addDocument(ctx, {
      type: DOCUMENT_TYPES.discharge,
      t,
      attachment,
      description: 'Inpatient discharge summary',
      encounter,
    });
  }
}

function choosePanels(clinic: Coded): readonly Panel[] {
  if (clinic.display === 'Endocrinology') return [HBA1C, TFT, UE];
  if (clinic.display === 'Cardiology') return [LIPIDS, UE];
  return [FBC];
}

function writePathway(ctx: SourceContext, p: Pathway, who: SourceIdentity): void {
  const { rng } = ctx;
  const serviceType = toSnomed(p.clinic);
  let lettered = false;
  for (const start of p.visits) {
    const t = ctx.atClinicHours(start);
    const roll = rng.next();
    const status = roll < 0.85 ? 'fulfilled' : roll < 0.93 ? 'noshow' : 'cancelled';
    const clinician = rng.pick(CONSULTANTS);
    addAppointment(ctx, {
      start: t,
      minutes: 20,
      status,
      serviceType,
      clinician,
      description: `${p.clinic.display} clinic`,
    });
    if (status !== 'fulfilled') continue;
    const end = Math.min(ctx.now, t + 20 * 60_000);
    const encounter = referenceTo(
      addEncounter(ctx, {
        cls: 'AMB',
        type: toSnomed(ENCOUNTER_TYPES.outpatient),
        start: t,
        end,
        serviceType,
      }),
    );
    if (rng.chance(0.3)) addBloods(ctx, choosePanels(p.clinic), end, encounter, 0.3);
    if (!lettered || rng.chance(0.3)) {
      lettered = true;
      // the first visit's letter is the one the GP is sent a copy of (gp-correspondence.ts): ten
      // days on, so both copies carry one date; the delay is drawn either way, as it always was
      const delay = rng.int(1, 10);
      const date = Math.min(ctx.now, t + (start === p.visits[0] ? 10 : delay) * DAY_MS);
      const body = [
        `Seen today in the ${p.clinic.display} clinic by ${clinician}.`,
        'Plan discussed and agreed.',
      ];
      const title = `${p.clinic.display} clinic letter`;
      const attachment = attachLetter(
        { from: ctx.org.name, title, date: formatInstant(date), who, body },
        rng.chance(0.08),
      );
      addDocument(ctx, {
        type: DOCUMENT_TYPES.clinicLetter,
        t: date,
        attachment,
        description: title,
        encounter,
      });
    }
  }
}

function writeGpRequestedBloods(ctx: SourceContext, plan: PersonPlan): void {
  const { rng } = ctx;
  if (plan.age < 18) return;
  const years = (ctx.now - ctx.from) / YEAR_MS;
  const perYear = plan.conditions.length > 0 ? 0.35 : 0.08;
  for (let i = rng.count(years * perYear * Math.sqrt(plan.intensity)); i > 0; i--) {
    const panels = rng.chance(0.5) ? [UE, FBC] : rng.chance(0.5) ? [UE] : [FBC, LFT];
    addBloods(ctx, panels, ctx.clinicTime(), undefined, 0.15);
  }
}

export function writeAcuteRecord(ctx: SourceContext, plan: PersonPlan, who: SourceIdentity): void {
  writeGpRequestedBloods(ctx, plan);
  writeEdVisits(ctx, plan);
  for (const a of plan.admissions) writeAdmission(ctx, plan, a, who);
  for (const p of plan.pathways) writePathway(ctx, p, who);
  if (plan.pathways.length === 0 && plan.edVisits.length === 0 && plan.admissions.length === 0) {
    // Known to the trust but never seen there: a cancelled clinic from a referral that went nowhere.
    const clinic = ctx.rng.pick(CLINICS);
    addAppointment(ctx, {
      start: ctx.clinicTime(),
      minutes: 20,
      status: 'cancelled',
      serviceType: toSnomed(clinic),
      clinician: ctx.rng.pick(CONSULTANTS),
    });
  }
}
