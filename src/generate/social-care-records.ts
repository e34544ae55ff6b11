/**
 * The council's adult social care case record: a case (EpisodeOfCare), assessments and reviews
 * (Encounters, each with an assessment summary document) and care packages (CarePlans).
 */
import type { CarePlan, EpisodeOfCare } from '@medplum/fhirtypes';
import { SOCIAL_CARE_ASSESSMENTS, SOCIAL_CARE_PACKAGES, SOCIAL_CARE_PACKAGE_TEXT } from './care-codes.ts';
import { addDocument, addEncounter, referenceTo } from './clinical-build.ts';
import {
  DAY_MS,
  formatDate,
  formatInstant,
  referenceOrg,
  toSnomed,
  toTextConcept,
  type SourceContext,
} from './fhir-build.ts';
import { DOCUMENT_TYPES } from './hospital-codes.ts';
import type { SourceIdentity } from './identity.ts';
import { attachLetter } from './letters.ts';
import type { PersonPlan } from './plan.ts';

const WORKERS = ['Social worker T Crowther', 'Social worker A Begum', 'Occupational therapist R Pickles'];

export function writeSocialCareRecord(ctx: SourceContext, plan: PersonPlan, who: SourceIdentity): void {
  const { rng, now } = ctx;
  const open = rng.chance(plan.heavy ? 0.8 : 0.6);
  const start = open
    ? Math.max(ctx.from, now - rng.between(60, 5 * 365) * DAY_MS)
    : ctx.timeBetween(ctx.from, now - 200 * DAY_MS);
  const end = open ? undefined : Math.min(now - DAY_MS, start + rng.between(90, 3 * 365) * DAY_MS);
  const caseRecord = ctx.add<EpisodeOfCare>({
    resourceType: 'EpisodeOfCare',
    id: ctx.nextId(),
    meta: ctx.meta(end ?? start),
    status: open ? 'active' : 'finished',
    type: [toTextConcept('Adult social care')],
    patient: ctx.patientRef,
    managingOrganization: referenceOrg(ctx.org),
    period:
      end === undefined
        ? { start: formatInstant(start) }
        : { start: formatInstant(start), end: formatInstant(end) },
  });
  const episodeOfCare = referenceTo(caseRecord);
  const until = end ?? now;
  // Assessment at the start, then reviews roughly yearly (more often for heavy users).
  const gap = (plan.heavy ? 120 : 300) * DAY_MS;
  for (let t = start, first = true; t < until; t += gap * rng.between(0.7, 1.3), first = false) {
    const kind = first ? SOCIAL_CARE_ASSESSMENTS[0] : SOCIAL_CARE_ASSESSMENTS[3];
    const assessment = kind ?? rng.pick(SOCIAL_CARE_ASSESSMENTS);
    const at = ctx.atClinicHours(t);
    const encounter = addEncounter(ctx, {
      cls: rng.chance(0.7) ? 'HH' : 'AMB',
      type: toSnomed(assessment),
      start: at,
      end: Math.min(now, at + 90 * 60_000),
      episodeOfCare,
    });
    const title = `${assessment.display} summary`;
    const body = [
      `${assessment.display} completed by ${rng.pick(WORKERS)}.`,
      rng.chance(0.5)
        ? 'Eligible needs identified under the Care Act 2014.'
        : 'Needs met by current support.',
      `Outcome: ${rng.pick(SOCIAL_CARE_PACKAGE_TEXT)}.`,
    ];
    const date = Math.min(now, at + rng.int(1, 7) * DAY_MS);
    const attachment = attachLetter(
      { from: ctx.org.name, title, date: formatInstant(date), who, body },
      false,
    );
    addDocument(ctx, {
      type: DOCUMENT_TYPES.assessment,
      t: date,
      attachment,
      description: title,
      encounter: referenceTo(encounter),
    });
  }
  const packages = rng.int(1, plan.heavy ? 4 : 2);
  let t = start + rng.int(7, 42) * DAY_MS;
  for (let i = 0; i < packages && t < until; i++) {
    const last = i === packages - 1;
    const packageEnd = last ? end : Math.min(until, t + rng.between(60, 400) * DAY_MS);
    const kind = rng.pick(SOCIAL_CARE_PACKAGES);
    ctx.add<CarePlan>({
      resourceType: 'CarePlan',
      id: ctx.nextId(),
      meta: ctx.meta(packageEnd ?? t),
      status: packageEnd === undefined ? 'active' : 'completed',
      intent: 'plan',
      category: [toTextConcept('Care package')],
      title: kind.display,
      description: rng.pick(SOCIAL_CARE_PACKAGE_TEXT),
      subject: ctx.patientRef,
      period:
        packageEnd === undefined
          ? { start: formatDate(t) }
          : { start: formatDate(t), end: formatDate(packageEnd) },
    });
    if (packageEnd === undefined) break;
    t = packageEnd + DAY_MS;
  }
}
