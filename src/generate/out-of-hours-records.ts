/**
 * The NHS 111 and GP out-of-hours service: each call is a virtual Encounter with a 111 call report
 * (Composition); some lead to a face-to-face out-of-hours consultation (Encounter class AMB at the base, HH at home) with
 * its consultation note (DocumentReference).
 */
import type { Composition } from '@medplum/fhirtypes';
import { URGENT_CARE_OUTCOMES, URGENT_CARE_REASONS } from './care-codes.ts';
import { addDocument, addEncounter, referenceTo } from './clinical-build.ts';
import {
  DAY_MS,
  YEAR_MS,
  formatInstant,
  referenceOrg,
  toSnomed,
  toTextConcept,
  type SourceContext,
} from './fhir-build.ts';
import type { Coded } from './gp-codes.ts';
import { DOCUMENT_TYPES } from './hospital-codes.ts';
import type { SourceIdentity } from './identity.ts';
import { attachLetter } from './letters.ts';
import type { PersonPlan } from './plan.ts';

const HOUR_MS = 3_600_000;
const CALL_REPORT: Coded = { code: '371531000', display: 'Report of clinical encounter' };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function makeNarrative(text: string): { status: 'generated'; div: string } {
  return {
    status: 'generated',
    div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${escapeXml(text)}</p></div>`,
  };
}

/** Evenings, nights and weekends: when 111 and out-of-hours services are busy. */
function pickOutOfHoursTime(ctx: SourceContext, t: number): number {
  const day = Math.floor(t / DAY_MS) * DAY_MS;
  const hour = ctx.rng.chance(0.5) ? ctx.rng.between(18.5, 23.9) : ctx.rng.between(0, 7.9);
  return Math.min(ctx.now, day + hour * HOUR_MS);
}

function writeCall(ctx: SourceContext, t: number, who: SourceIdentity): void {
  const { rng } = ctx;
  const reason = rng.pick(URGENT_CARE_REASONS);
  const outcome = rng.pick(URGENT_CARE_OUTCOMES);
  const end = Math.min(ctx.now, t + rng.int(10, 40) * 60_000);
  const call = addEncounter(ctx, {
    cls: 'VR',
    type: toTextConcept('NHS 111 telephone triage'),
    start: t,
    end,
    reason,
  });
  const report: Composition = {
    resourceType: 'Composition',
    id: ctx.nextId(),
    meta: ctx.meta(end),
    status: 'final',
    type: toSnomed(CALL_REPORT),
    subject: ctx.patientRef,
    encounter: referenceTo(call),
    date: formatInstant(end),
    author: [referenceOrg(ctx.org)],
    title: 'NHS 111 call report',
    section: [
      { title: 'Presenting complaint', text: makeNarrative(reason.display) },
      { title: 'Disposition', text: makeNarrative(outcome) },
    ],
  };
  ctx.add(report);
  if (!outcome.includes('face-to-face') && !outcome.includes('Home visit')) return;
  const seen = Math.min(ctx.now, end + rng.between(0.5, 3) * HOUR_MS);
  const seenEnd = Math.min(ctx.now, seen + 20 * 60_000);
  const home = outcome.includes('Home visit');
  // a base consultation is an ambulatory visit, not an emergency (A&E) attendance
  const visit = addEncounter(ctx, {
    cls: home ? 'HH' : 'AMB',
    type: toTextConcept(home ? 'Out-of-hours home visit' : 'Out-of-hours base consultation'),
    start: seen,
    end: seenEnd,
    reason,
  });
  const title = 'Out-of-hours consultation';
  const body = [`Presented with ${reason.display.toLowerCase()}.`, 'Examined; safety-netting advice given.'];
  const attachment = attachLetter(
    { from: ctx.org.name, title, date: formatInstant(seenEnd), who, body },
    false,
  );
  addDocument(ctx, {
    type: DOCUMENT_TYPES.clinicLetter,
    t: seenEnd,
    attachment,
    description: title,
    encounter: referenceTo(visit),
  });
}

export function writeOutOfHoursRecord(ctx: SourceContext, plan: PersonPlan, who: SourceIdentity): void {
  const { rng, now } = ctx;
  const years = (now - ctx.from) / YEAR_MS;
  const calls = 1 + rng.count(years * 0.08 * plan.intensity);
  const recent = rng.chance(0.4);
  for (let i = 0; i < calls; i++) {
    const t = i === 0 && recent ? now - rng.between(1, 330) * DAY_MS : ctx.timeBetween(ctx.from, now);
    writeCall(ctx, pickOutOfHoursTime(ctx, t), who);
  }
}
