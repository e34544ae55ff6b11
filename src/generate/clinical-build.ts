/**
 * Builders for the resource shapes several sources share (Encounter, Condition, Appointment,
 * DocumentReference), so every source writes them the same valid way.
 */
import type {
  Appointment,
  Attachment,
  CodeableConcept,
  Condition,
  DocumentReference,
  Encounter,
  EpisodeOfCare,
  Organization,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import {
  ACT_CODE,
  toCoding,
  formatInstant,
  formatDate,
  referenceOrg,
  toSnomed,
  type SourceContext,
} from './fhir-build.ts';
import type { Coded } from './gp-codes.ts';

export type EncounterClass = 'AMB' | 'IMP' | 'EMER' | 'VR' | 'HH';

const CLASS_DISPLAY: Record<EncounterClass, string> = {
  AMB: 'ambulatory',
  IMP: 'inpatient encounter',
  EMER: 'emergency',
  VR: 'virtual',
  HH: 'home health',
};

export function referenceTo<T extends Resource>(resource: T): Reference<T> {
  return { reference: `${resource.resourceType}/${resource.id ?? ''}` };
}

export interface EncounterInput {
  cls: EncounterClass;
  type: CodeableConcept;
  start: number;
  /** Undefined: the encounter is still in progress. */
  end?: number;
  reason?: Coded;
  serviceType?: CodeableConcept;
  episodeOfCare?: Reference<EpisodeOfCare>;
}

export function addEncounter(ctx: SourceContext, e: EncounterInput): Encounter {
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: ctx.nextId(),
    meta: ctx.meta(e.end ?? e.start),
    status: e.end === undefined ? 'in-progress' : 'finished',
    class: toCoding(ACT_CODE, e.cls, CLASS_DISPLAY[e.cls]),
    type: [e.type],
    subject: ctx.patientRef,
    period:
      e.end === undefined
        ? { start: formatInstant(e.start) }
        : { start: formatInstant(e.start), end: formatInstant(e.end) },
    serviceProvider: referenceOrg(ctx.org),
  };
  if (e.serviceType) encounter.serviceType = e.serviceType;
  if (e.episodeOfCare) encounter.episodeOfCare = [e.episodeOfCare];
  if (e.reason) encounter.reasonCode = [toSnomed(e.reason)];
  return ctx.add(encounter);
}

const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';

export interface ConditionInput {
  code: CodeableConcept;
  onset: number;
  abatement?: number;
  category: 'problem-list-item' | 'encounter-diagnosis';
  encounter?: Reference<Encounter>;
}

export function addCondition(ctx: SourceContext, c: ConditionInput): Condition {
  const status = c.abatement === undefined ? 'active' : 'resolved';
  const condition: Condition = {
    resourceType: 'Condition',
    id: ctx.nextId(),
    meta: ctx.meta(c.abatement ?? c.onset),
    clinicalStatus: { coding: [toCoding(CLINICAL, status)] },
    verificationStatus: { coding: [toCoding(VERIFICATION, 'confirmed')] },
    category: [{ coding: [toCoding(CONDITION_CATEGORY, c.category)] }],
    code: c.code,
    subject: ctx.patientRef,
    onsetDateTime: formatDate(c.onset),
    recordedDate: formatInstant(c.onset),
  };
  if (c.encounter) condition.encounter = c.encounter;
  if (c.abatement !== undefined) condition.abatementDateTime = formatDate(c.abatement);
  return ctx.add(condition);
}

export interface AppointmentInput {
  start: number;
  minutes: number;
  status: 'fulfilled' | 'noshow' | 'cancelled' | 'booked';
  serviceType: CodeableConcept;
  description?: string;
  clinician: string;
}

export function addAppointment(ctx: SourceContext, a: AppointmentInput): Appointment {
  const appointment: Appointment = {
    resourceType: 'Appointment',
    id: ctx.nextId(),
    meta: ctx.meta(a.start),
    status: a.status,
    serviceType: [a.serviceType],
    start: formatInstant(a.start),
    end: formatInstant(a.start + a.minutes * 60_000),
    minutesDuration: a.minutes,
    participant: [
      {
        actor: ctx.patientRef,
        required: 'required',
        status: a.status === 'cancelled' ? 'declined' : 'accepted',
      },
      { actor: { display: a.clinician }, required: 'required', status: 'accepted' },
    ],
  };
  if (a.description) appointment.description = a.description;
  return ctx.add(appointment);
}

export interface DocumentInput {
  type: Coded;
  t: number;
  attachment: Attachment;
  description: string;
  encounter?: Reference<Encounter>;
  author?: Reference<Organization>;
}

export function addDocument(ctx: SourceContext, d: DocumentInput): DocumentReference {
  const doc: DocumentReference = {
    resourceType: 'DocumentReference',
    id: ctx.nextId(),
    meta: ctx.meta(d.t),
    status: 'current',
    docStatus: 'final',
    type: toSnomed(d.type),
    subject: ctx.patientRef,
    date: formatInstant(d.t),
    author: [d.author ?? referenceOrg(ctx.org)],
    custodian: referenceOrg(ctx.org),
    description: d.description,
    content: [{ attachment: d.attachment }],
  };
  if (d.encounter) doc.context = { encounter: [d.encounter] };
  return ctx.add(doc);
}
