/**
 * The community and mental-health trust's record: one EpisodeOfCare per service episode, with its
 * CareTeam, CarePlan, visits (Encounters), mental-health diagnoses and PHQ-9 scores.
 */
import type { CarePlan, CareTeam, EpisodeOfCare, Observation, Reference } from '@medplum/fhirtypes';
import { MENTAL_HEALTH_DIAGNOSES } from './care-codes.ts';
import { addCondition, addDocument, addEncounter, referenceTo } from './clinical-build.ts';
import {
  DAY_MS,
  toCoding,
  formatInstant,
  formatDate,
  referenceOrg,
  toQuantity,
  toSnomed,
  toTextConcept,
  type SourceContext,
} from './fhir-build.ts';
import { DOCUMENT_TYPES } from './hospital-codes.ts';
import type { SourceIdentity } from './identity.ts';
import { attachLetter } from './letters.ts';
import type { CommunityEpisode, PersonPlan } from './plan.ts';

const STAFF = [
  'Community psychiatric nurse J Fairbairn',
  'District nurse P Greenwood',
  'Physiotherapist D Hepworth',
];
const PHQ9 = { code: '720433000', display: 'Patient Health Questionnaire Nine Item score' };

function makePeriod(start: number, end?: number): { start: string; end?: string } {
  return end === undefined
    ? { start: formatInstant(start) }
    : { start: formatInstant(start), end: formatInstant(end) };
}

function writeEpisode(ctx: SourceContext, plan: PersonPlan, e: CommunityEpisode, who: SourceIdentity): void {
  const { rng } = ctx;
  const open = e.end === undefined;
  const team: CareTeam = ctx.add<CareTeam>({
    resourceType: 'CareTeam',
    id: ctx.nextId(),
    meta: ctx.meta(e.end ?? e.start),
    status: open ? 'active' : 'inactive',
    name: e.service.team,
    subject: ctx.patientRef,
    period: makePeriod(e.start, e.end),
    participant: [{ role: [toTextConcept('Care coordinator')], member: { display: rng.pick(STAFF) } }],
    managingOrganization: [referenceOrg(ctx.org)],
  });
  const episode = ctx.add<EpisodeOfCare>({
    resourceType: 'EpisodeOfCare',
    id: ctx.nextId(),
    meta: ctx.meta(e.end ?? e.start),
    status: open ? 'active' : 'finished',
    type: [toSnomed(e.service.service)],
    patient: ctx.patientRef,
    managingOrganization: referenceOrg(ctx.org),
    period: makePeriod(e.start, e.end),
    team: [referenceTo(team)],
  });
  const episodeRef: Reference<EpisodeOfCare> = referenceTo(episode);
  ctx.add<CarePlan>({
    resourceType: 'CarePlan',
    id: ctx.nextId(),
    meta: ctx.meta(e.start + 7 * DAY_MS),
    status: open ? 'active' : 'completed',
    intent: 'plan',
    title: `${e.service.team} care plan`,
    description: e.service.mentalHealth
      ? 'Weekly contact; medication concordance; crisis plan shared with the person and their GP.'
      : 'Visits to support recovery and independence at home; review goals monthly.',
    subject: ctx.patientRef,
    period: { start: formatDate(e.start), ...(e.end === undefined ? {} : { end: formatDate(e.end) }) },
    careTeam: [referenceTo(team)],
  });
  const until = e.end ?? ctx.now;
  const gapDays = e.service.mentalHealth ? 14 : 10;
  let phqScore = rng.int(10, 22);
  if (e.service.mentalHealth) {
    const diagnosis = rng.pick(MENTAL_HEALTH_DIAGNOSES);
    addCondition(ctx, { code: toSnomed(diagnosis), onset: e.start, category: 'encounter-diagnosis' });
  }
  let visit = 0;
  const limit = plan.heavy ? 120 : 30;
  for (let t = e.start; t < until && visit < limit; t += gapDays * DAY_MS * rng.between(0.6, 1.6)) {
    const start = ctx.atClinicHours(t);
    const encounter = addEncounter(ctx, {
      cls: e.service.mentalHealth ? 'AMB' : 'HH',
      type: toSnomed(e.service.visit),
      serviceType: toSnomed(e.service.service),
      start,
      end: Math.min(ctx.now, start + 45 * 60_000),
      episodeOfCare: episodeRef,
    });
    if (e.service.mentalHealth && visit % 2 === 0) {
      phqScore = Math.max(0, Math.min(27, phqScore + rng.int(-4, 2)));
      const obs: Observation = {
        resourceType: 'Observation',
        id: ctx.nextId(),
        meta: ctx.meta(start),
        status: 'final',
        category: [
          { coding: [toCoding('http://terminology.hl7.org/CodeSystem/observation-category', 'survey')] },
        ],
        code: toSnomed(PHQ9),
        subject: ctx.patientRef,
        encounter: referenceTo(encounter),
        effectiveDateTime: formatInstant(start),
        valueQuantity: toQuantity(phqScore, '{score}'),
      };
      ctx.add(obs);
    }
    visit++;
  }
  if (e.end !== undefined) {
    const title = `${e.service.team} discharge letter`;
    const body = [`Discharged from ${e.service.team} after ${visit} contacts.`, 'Please re-refer if needed.'];
    const attachment = attachLetter(
      { from: ctx.org.name, title, date: formatInstant(e.end), who, body },
      false,
    );
    addDocument(ctx, { type: DOCUMENT_TYPES.clinicLetter, t: e.end, attachment, description: title });
  }
}

export function writeCommunityRecord(ctx: SourceContext, plan: PersonPlan, who: SourceIdentity): void {
  for (const e of plan.episodes) writeEpisode(ctx, plan, e, who);
}
