/**
 * The GP side of the hospital and community journeys: referrals out (ServiceRequest plus a referral
 * letter) and letters in (clinic letters and discharge summaries), matching the acute and community
 * records of the same person.
 */
import type { ServiceRequest } from '@medplum/fhirtypes';
import { addDocument } from './clinical-build.ts';
import {
  DAY_MS,
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
import type { RegionOrganisation } from './region-spec.ts';

export interface Partners {
  acute?: RegionOrganisation;
  community?: RegionOrganisation;
}

const HOUR_MS = 3_600_000;
const REFERRAL_CATEGORY: Coded = { code: '3457005', display: 'Patient referral' };

function refer(ctx: SourceContext, to: RegionOrganisation, service: string, t: number, done: boolean): void {
  const request: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    status: done ? 'completed' : 'active',
    intent: 'order',
    category: [toSnomed(REFERRAL_CATEGORY)],
    code: toTextConcept(`Referral to ${service}`),
    subject: ctx.patientRef,
    authoredOn: formatInstant(t),
    requester: referenceOrg(ctx.org),
    performer: [referenceOrg(to)],
  };
  ctx.add(request);
}

export function writeGpCorrespondence(
  ctx: SourceContext,
  plan: PersonPlan,
  who: SourceIdentity,
  to: Partners,
): void {
  const { rng, now } = ctx;
  const letter = (
    title: string,
    t: number,
    from: string,
    body: string[],
    type: Coded,
    author?: RegionOrganisation,
  ): void => {
    const attachment = attachLetter({ from, title, date: formatInstant(t), who, body }, false);
    addDocument(ctx, { type, t, attachment, description: title, author: author && referenceOrg(author) });
  };
  if (to.acute) {
    const acute = to.acute;
    for (const p of plan.pathways) {
      const service = `${p.clinic.display} clinic, ${acute.name}`;
      const t = Math.max(ctx.from, p.referred);
      refer(ctx, acute, service, t, p.visits.length > 0);
      letter(
        `Referral to ${p.clinic.display}`,
        t,
        ctx.org.name,
        [`Dear colleague, please see this patient in ${service}.`],
        REFERRAL_CATEGORY,
      );
      const first = p.visits[0];
      // the GP's copy of the first visit's letter: the hospital dates it ten days on (acute-records.ts)
      if (first !== undefined && first + 10 * DAY_MS < now) {
        const body = [`Seen in ${p.clinic.display} clinic.`, rng.pick(CLINIC_OUTCOMES)];
        letter(
          `${p.clinic.display} clinic letter`,
          first + 10 * DAY_MS,
          acute.name,
          body,
          DOCUMENT_TYPES.clinicLetter,
          acute,
        );
      }
    }
    for (const a of plan.admissions) {
      if (a.end === undefined || a.end + DAY_MS > now || a.end < ctx.from) continue;
      const body = [
        `Admitted with ${a.reason.display.toLowerCase()}.`,
        'Discharged home. Please review in two weeks.',
      ];
      // the GP's copy of the hospital's discharge summary: its title and date (acute-records.ts)
      letter(
        'Inpatient discharge summary',
        a.end + 3 * HOUR_MS,
        acute.name,
        body,
        DOCUMENT_TYPES.discharge,
        acute,
      );
    }
  }
  if (to.community) {
    for (const e of plan.episodes) {
      const t = Math.max(ctx.from, e.start - rng.int(7, 28) * DAY_MS);
      refer(ctx, to.community, e.service.team, t, true);
    }
  }
}

const CLINIC_OUTCOMES = [
  'Investigations arranged; we will see them again with the results.',
  'Reassured; discharged back to GP care.',
  'Medication adjusted as below; follow-up in three months.',
  'Listed for a day-case procedure.',
];
