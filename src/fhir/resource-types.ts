import type { Reference, Resource } from '@medplum/fhirtypes';

/**
 * The resource types a shared care record holds, the section of the view each belongs to, where
 * it names its patient, and which dates say when it happened. Types not listed here (billing such
 * as Claim, directory entries such as Practitioner) are not clinical items of the record.
 */
export type Section =
  | 'problems'
  | 'procedures'
  | 'medications'
  | 'allergies'
  | 'immunisations'
  | 'results'
  | 'encounters'
  | 'appointments'
  | 'referrals'
  | 'documents'
  | 'care-plans'
  | 'alerts';

interface TypeInfo {
  section: Section;
  /** where the patient reference lives */
  patient: 'subject' | 'patient' | 'participant';
  /** candidate date fields, first present wins */
  dates: string[];
}

export const CLINICAL_TYPES: Record<string, TypeInfo> = {
  Condition: {
    section: 'problems',
    patient: 'subject',
    dates: ['onsetDateTime', 'onsetPeriod.start', 'recordedDate'],
  },
  Procedure: {
    section: 'procedures',
    patient: 'subject',
    dates: ['performedDateTime', 'performedPeriod.start'],
  },
  Observation: {
    section: 'results',
    patient: 'subject',
    dates: ['effectiveDateTime', 'effectivePeriod.start', 'effectiveInstant', 'issued'],
  },
  DiagnosticReport: {
    section: 'results',
    patient: 'subject',
    dates: ['effectiveDateTime', 'effectivePeriod.start', 'issued'],
  },
  ImagingStudy: { section: 'results', patient: 'subject', dates: ['started'] },
  MedicationRequest: { section: 'medications', patient: 'subject', dates: ['authoredOn'] },
  MedicationStatement: {
    section: 'medications',
    patient: 'subject',
    dates: ['effectiveDateTime', 'effectivePeriod.start', 'dateAsserted'],
  },
  MedicationAdministration: {
    section: 'medications',
    patient: 'subject',
    dates: ['effectiveDateTime', 'effectivePeriod.start'],
  },
  MedicationDispense: {
    section: 'medications',
    patient: 'subject',
    dates: ['whenHandedOver', 'whenPrepared'],
  },
  AllergyIntolerance: { section: 'allergies', patient: 'patient', dates: ['onsetDateTime', 'recordedDate'] },
  Immunization: { section: 'immunisations', patient: 'patient', dates: ['occurrenceDateTime', 'recorded'] },
  Encounter: { section: 'encounters', patient: 'subject', dates: ['period.start'] },
  EpisodeOfCare: { section: 'encounters', patient: 'patient', dates: ['period.start'] },
  Appointment: { section: 'appointments', patient: 'participant', dates: ['start', 'created'] },
  ServiceRequest: { section: 'referrals', patient: 'subject', dates: ['authoredOn', 'occurrenceDateTime'] },
  DocumentReference: { section: 'documents', patient: 'subject', dates: ['context.period.start', 'date'] },
  Composition: { section: 'documents', patient: 'subject', dates: ['date'] },
  QuestionnaireResponse: { section: 'documents', patient: 'subject', dates: ['authored'] },
  CarePlan: { section: 'care-plans', patient: 'subject', dates: ['period.start', 'created'] },
  CareTeam: { section: 'care-plans', patient: 'subject', dates: ['period.start'] },
  Goal: { section: 'care-plans', patient: 'subject', dates: ['startDate'] },
  Flag: { section: 'alerts', patient: 'subject', dates: ['period.start'] },
};

/** Types that only describe other things; a reference to one is kept as display text. */
export const DIRECTORY_TYPES = new Set([
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'Location',
  'Medication',
  'Device',
  'HealthcareService',
]);

export function isClinicalType(type: string): boolean {
  return Object.hasOwn(CLINICAL_TYPES, type);
}

function getPath(obj: unknown, dotted: string): unknown {
  let cur = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The references that name the patient (Appointment may have several participants). */
export function patientReferences(resource: Resource): Reference[] {
  const info = CLINICAL_TYPES[resource.resourceType];
  if (!info) return [];
  if (info.patient === 'participant') {
    const parts = (getPath(resource, 'participant') as { actor?: Reference }[] | undefined) ?? [];
    return parts.map((p) => p.actor).filter((a): a is Reference => !!a?.reference);
  }
  const ref = getPath(resource, info.patient) as Reference | undefined;
  return ref?.reference ? [ref] : [];
}

/**
 * The item's patient element where it names the patient by identifier alone, with no reference
 * (`subject: {identifier: {system, value}}`, as the National Record Locator's pointers do).
 */
export function patientIdentifier(
  resource: Resource,
): { reference?: string; identifier: { system?: string; value: string } } | undefined {
  const field = CLINICAL_TYPES[resource.resourceType]?.patient;
  if (!field || field === 'participant') return undefined;
  const ref = getPath(resource, field) as
    { reference?: unknown; identifier?: { system?: unknown; value?: unknown } } | undefined;
  const id = ref?.identifier;
  if (!ref || ref.reference !== undefined || typeof id?.value !== 'string' || !id.value) return undefined;
  return ref as { identifier: { system?: string; value: string } };
}

/** When the item happened, as an ISO instant, from the first date field present. */
export function effectiveDate(resource: Resource): string | undefined {
  const info = CLINICAL_TYPES[resource.resourceType];
  for (const field of info?.dates ?? []) {
    const v = getPath(resource, field);
    if (typeof v === 'string' && v.length >= 4) return toInstant(v);
  }
  return undefined;
}

/** FHIR partial dates ("2020", "2020-05", "2020-05-01") to a full instant for sorting/filtering. */
export function toInstant(v: string): string | undefined {
  let s = v;
  if (/^\d{4}$/.test(s)) s += '-01-01';
  else if (/^\d{4}-\d{2}$/.test(s)) s += '-01';
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += 'T00:00:00Z';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function statusOf(resource: Resource): string | undefined {
  const r = resource as {
    status?: unknown;
    lifecycleStatus?: unknown;
    clinicalStatus?: { coding?: { code?: string }[] };
  };
  if (typeof r.status === 'string') return r.status;
  // a Goal's status is its lifecycleStatus
  if (typeof r.lifecycleStatus === 'string') return r.lifecycleStatus;
  return r.clinicalStatus?.coding?.[0]?.code;
}

export function isEnteredInError(resource: Resource): boolean {
  const r = resource as {
    status?: unknown;
    lifecycleStatus?: unknown;
    verificationStatus?: { coding?: { code?: string }[] };
  };
  return (
    r.status === 'entered-in-error' ||
    r.lifecycleStatus === 'entered-in-error' ||
    r.verificationStatus?.coding?.some((c) => c.code === 'entered-in-error') === true
  );
}
