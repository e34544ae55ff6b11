/**
 * generatePerson: everything every source system holds about one synthetic person. Deterministic in
 * (seed, index) alone, so any person can be generated without generating the ones before it.
 */
import type { Resource } from '@medplum/fhirtypes';
import { writeAcuteRecord } from './acute-records.ts';
import { writeCommunityRecord } from './community-records.ts';
import { DAY_MS, SourceContext, YEAR_MS, makeResourceUuid } from './fhir-build.ts';
import { writeGpCorrespondence } from './gp-correspondence.ts';
import { writeGpImmunisations } from './gp-immunisations.ts';
import { writeGpObservations } from './gp-observations.ts';
import { writeGpClinical } from './gp-records.ts';
import { writeHospitalHistory } from './hospital-history.ts';
import {
  buildPatient,
  drawIdentity,
  copyTrueIdentity,
  distortIdentity,
  type SourceIdentity,
} from './identity.ts';
import { writeLabRecord } from './lab-records.ts';
import { writeOutOfHoursRecord } from './out-of-hours-records.ts';
import { drawPlan, type PersonPlan } from './plan.ts';
import { Rng } from './random.ts';
import type { RegionSpec } from './region-spec.ts';
import { writeSensitiveItems } from './sensitive-records.ts';
import { classifySources, scrambleDigits, type SourceRole } from './source-roles.ts';
import { writeSocialCareRecord } from './social-care-records.ts';

export const DEFAULT_SEED = 20_240_601;

export interface PersonRecords {
  index: number;
  /** The true NHS number (valid modulus 11, starts 999). */
  nhsNumber: string;
  /** One of the long tail of heavy users. */
  heavy: boolean;
  /** Per source id: the resources that source holds about this person. The source's Patient comes first. */
  bySource: Map<string, Resource[]>;
  /** How many of the resources carry a code from config/sensitive-codes.csv. */
  sensitive: number;
}

type OtherSource = readonly [
  role: SourceRole | undefined,
  present: boolean,
  localId: (role: SourceRole) => string,
  omitNhsNumber: number,
  write: (ctx: SourceContext, plan: PersonPlan, who: SourceIdentity) => void,
];

/** Midnight UTC today: the default "now", stable within a day so repeated calls agree. */
export function getDefaultNow(): Date {
  return new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
}

function createContext(role: SourceRole, localId: string, seed: number, plan: PersonPlan): SourceContext {
  const rng = new Rng(seed, plan.index, role.hash);
  return new SourceContext(role.source, role.org, localId, rng, plan.now, plan.index, plan.from);
}

function startRecord(
  role: SourceRole,
  localId: string,
  seed: number,
  plan: PersonPlan,
  who: SourceIdentity,
  gp?: SourceRole,
): SourceContext {
  const ctx = createContext(role, localId, seed, plan);
  const registered = ctx.timeBetween(Math.max(plan.from, plan.now - 3 * YEAR_MS));
  ctx.add(buildPatient(ctx, who, plan.truth.sex, registered, gp?.org));
  return ctx;
}

export function generatePerson(
  spec: RegionSpec,
  index: number,
  seed = DEFAULT_SEED,
  now: Date = getDefaultNow(),
): PersonRecords {
  const nowMs = now.getTime();
  const rng = new Rng(seed, index);
  const truth = drawIdentity(rng, index, seed, nowMs);
  const plan = drawPlan(rng, index, truth, nowMs);
  const roles = classifySources(spec);
  const gpRole = rng.weighted(roles.gp.map((g, i): [SourceRole, number] => [g, [40, 35, 25][i % 3] ?? 30]));

  const gpId = makeResourceUuid(new Rng(seed, index, gpRole.hash, 1), index, 0);
  const gpWho = copyTrueIdentity(truth);
  const gp = startRecord(gpRole, gpId, seed, plan, gpWho, gpRole);
  writeGpClinical(gp, plan);
  writeGpObservations(gp, plan);
  writeGpImmunisations(gp, plan);
  writeGpCorrespondence(gp, plan, gpWho, {
    acute: plan.at.acute ? roles.acute?.org : undefined,
    community: plan.at.community ? roles.community?.org : undefined,
  });

  // Every other source that knows the person: its local id format, how often it lacks the NHS number.
  const others: readonly OtherSource[] = [
    [roles.acute, plan.at.acute, (r) => r.org.ods + scrambleDigits(index, 7, r.hash), 0, writeAcuteRecord],
    [
      roles.community,
      plan.at.community,
      (r) => r.org.ods + scrambleDigits(index, 7, r.hash),
      0,
      writeCommunityRecord,
    ],
    [
      roles.socialCare,
      plan.at.socialCare,
      (r) => `SC-${scrambleDigits(index, 7, r.hash)}`,
      0.3,
      writeSocialCareRecord,
    ],
    [
      roles.outOfHours,
      plan.at.outOfHours,
      (r) => `OOH${scrambleDigits(index, 8, r.hash)}`,
      0.1,
      writeOutOfHoursRecord,
    ],
    [roles.lab, plan.at.lab, (r) => `L${scrambleDigits(index, 9, r.hash)}`, 0, writeLabRecord],
  ];
  const contexts = new Map<SourceRole, SourceContext>([[gpRole, gp]]);
  for (const [role, present, localId, omitNhsNumber, write] of others) {
    if (!role || !present) continue;
    const who = distortIdentity(new Rng(seed, index, role.hash, 2), truth, { omitNhsNumber });
    const ctx = startRecord(role, localId(role), seed, plan, who, gpRole);
    write(ctx, plan, who);
    contexts.set(role, ctx);
  }

  const sensitiveRng = new Rng(seed, index, 0x5e5);
  const targets = {
    gp,
    acute: roles.acute && contexts.get(roles.acute),
    community: roles.community && contexts.get(roles.community),
  };
  const sensitive = writeSensitiveItems(sensitiveRng, targets, plan.sensitive);
  // after everything else, from a stream of its own: the rest of the region is unchanged by it
  if (targets.acute) writeHospitalHistory(new Rng(seed, index, 0x415), gp, targets.acute, plan);
  const bySource = new Map<string, Resource[]>();
  for (const ctx of contexts.values()) bySource.set(ctx.source.id, ctx.resources);
  return { index, nhsNumber: truth.nhsNumber, heavy: plan.heavy, bySource, sensitive };
}
