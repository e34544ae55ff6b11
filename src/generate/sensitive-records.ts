/**
 * Plants the small share of sensitive items (HIV, STIs, assisted conception, termination, gender
 * identity) using exactly the codes listed in config/sensitive-codes.csv, so the product's
 * sensitive-data rules have something real to act on.
 */
import type { CodeableConcept, Condition, Encounter, Observation, Procedure } from '@medplum/fhirtypes';
import {
  ACT_CODE,
  DAY_MS,
  toCoding,
  formatInstant,
  formatDate,
  referenceOrg,
  toTextConcept,
  type SourceContext,
} from './fhir-build.ts';
import { SNOMED } from './gp-codes.ts';
import { LOINC } from './hospital-codes.ts';
import type { Rng } from './random.ts';
import { loadSensitiveCodes, type SensitiveCode } from './sensitive-codes.ts';

export interface SensitiveTargets {
  gp: SourceContext;
  acute?: SourceContext;
  community?: SourceContext;
}

const FEMALE_ONLY = new Set(['termination_of_pregnancy', 'assisted_fertilisation']);

let byCategory: ReadonlyMap<string, readonly SensitiveCode[]> | undefined;

function loadCategories(): ReadonlyMap<string, readonly SensitiveCode[]> {
  if (!byCategory) {
    const map = new Map<string, SensitiveCode[]>();
    for (const c of loadSensitiveCodes()) map.set(c.category, [...(map.get(c.category) ?? []), c]);
    byCategory = map;
  }
  return byCategory;
}

/** One category, or occasionally two, for a person who has sensitive items. */
export function pickSensitiveCategories(rng: Rng, sex: 'male' | 'female'): string[] {
  const all = [...loadCategories().keys()].filter((c) => sex === 'female' || !FEMALE_ONLY.has(c));
  if (all.length === 0) return [];
  const first = rng.pick(all);
  const second = rng.chance(0.2) ? rng.pick(all) : first;
  return second === first ? [first] : [first, second];
}

function pickCode(rng: Rng, category: string, system: string): SensitiveCode | undefined {
  const list = loadCategories().get(category) ?? [];
  const inSystem = list.filter((c) => c.system === system);
  return inSystem.length > 0 ? rng.pick(inSystem) : list[0];
}

function toSensitiveConcept(c: SensitiveCode): CodeableConcept {
  return { coding: [toCoding(c.system, c.code, c.display)], text: c.display };
}

function addSensitiveCondition(ctx: SourceContext, c: SensitiveCode, t: number): Condition {
  return ctx.add<Condition>({
    resourceType: 'Condition',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    clinicalStatus: {
      coding: [toCoding('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active')],
    },
    verificationStatus: {
      coding: [toCoding('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed')],
    },
    category: [
      {
        coding: [toCoding('http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item')],
      },
    ],
    code: toSensitiveConcept(c),
    subject: ctx.patientRef,
    onsetDateTime: formatDate(t),
    recordedDate: formatInstant(t),
  });
}

function addClinicEncounter(
  ctx: SourceContext,
  clinic: string,
  t: number,
  reason?: SensitiveCode,
): Encounter {
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    status: 'finished',
    class: toCoding(ACT_CODE, 'AMB', 'ambulatory'),
    type: [toTextConcept(clinic)],
    subject: ctx.patientRef,
    period: { start: formatInstant(t), end: formatInstant(t + 40 * 60_000) },
    serviceProvider: referenceOrg(ctx.org),
  };
  if (reason) encounter.reasonCode = [toSensitiveConcept(reason)];
  return ctx.add(encounter);
}

function addSensitiveProcedure(
  ctx: SourceContext,
  c: SensitiveCode,
  t: number,
  encounter: Encounter,
): Procedure {
  return ctx.add<Procedure>({
    resourceType: 'Procedure',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    status: 'completed',
    code: toSensitiveConcept(c),
    subject: ctx.patientRef,
    encounter: { reference: `Encounter/${encounter.id}` },
    performedDateTime: formatInstant(t),
  });
}

function addHivResult(ctx: SourceContext, c: SensitiveCode, t: number): Observation {
  return ctx.add<Observation>({
    resourceType: 'Observation',
    id: ctx.nextId(),
    meta: ctx.meta(t),
    status: 'final',
    category: [
      { coding: [toCoding('http://terminology.hl7.org/CodeSystem/observation-category', 'laboratory')] },
    ],
    code: {
      coding: [
        toCoding(LOINC, '56888-1', 'HIV 1+2 Ab+HIV1 p24 Ag [Presence] in Serum or Plasma by Immunoassay'),
      ],
    },
    subject: ctx.patientRef,
    effectiveDateTime: formatInstant(t),
    issued: formatInstant(Math.min(ctx.now, t + DAY_MS)),
    valueCodeableConcept: toSensitiveConcept(c),
  });
}

/** Writes the person's sensitive items; returns how many resources carry a sensitive code. */
export function writeSensitiveItems(rng: Rng, targets: SensitiveTargets, list: readonly string[]): number {
  let count = 0;
  const { gp } = targets;
  const acute = targets.acute ?? gp;
  const community = targets.community ?? gp;
  const when = (ctx: SourceContext): number =>
    ctx.clinicTime(Math.max(ctx.from, ctx.now - 10 * 365 * DAY_MS));
  for (const category of list) {
    const snomed = pickCode(rng, category, SNOMED);
    const icd = pickCode(rng, category, 'http://hl7.org/fhir/sid/icd-10');
    if (!snomed) continue;
    const t = when(gp);
    switch (category) {
      case 'hiv_aids': {
        addSensitiveCondition(gp, snomed, t);
        const detected =
          loadCategories()
            .get(category)
            ?.find((c) => c.code === '165816005') ?? snomed;
        addHivResult(acute, detected, Math.max(acute.from, t - 14 * DAY_MS));
        if (icd) addSensitiveCondition(acute, icd, t);
        count += icd ? 3 : 2;
        break;
      }
      case 'sexually_transmitted_disease':
        addClinicEncounter(community, 'Sexual health clinic', t, snomed);
        addSensitiveCondition(community, snomed, t);
        count += 2;
        break;
      case 'gender_related_issues':
        addSensitiveCondition(gp, snomed, t);
        addClinicEncounter(community, 'Gender identity clinic', when(community), icd ?? snomed);
        count += 2;
        break;
      case 'assisted_fertilisation':
      case 'termination_of_pregnancy': {
        const clinic =
          category === 'termination_of_pregnancy' ? 'Pregnancy advisory service' : 'Assisted conception unit';
        const at = when(acute);
        const encounter = addClinicEncounter(acute, clinic, at, icd);
        addSensitiveProcedure(acute, snomed, at, encounter);
        count += icd ? 2 : 1;
        break;
      }
      default:
        addSensitiveCondition(gp, snomed, t);
        count += 1;
    }
  }
  return count;
}
