/**
 * What each kind of FHIR resource says, in one line for a clinician: the thing, the value or
 * detail, the date that matters, the status, and a key that identifies "the same thing" across
 * sources. Clinical types are those of src/fhir/resource-types.ts.
 */
import type {
  AllergyIntolerance,
  Appointment,
  CarePlan,
  CareTeam,
  Composition,
  Condition,
  DiagnosticReport,
  DocumentReference,
  Dosage,
  Encounter,
  EpisodeOfCare,
  Flag,
  Goal,
  ImagingStudy,
  Immunization,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Procedure,
  QuestionnaireResponse,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { conceptKey, conceptText, formatDate } from './format.ts';
import type { Description } from './item.ts';
import { categoryKind, observationValue } from './observation.ts';

const dosageText = (d: Dosage[] | undefined) =>
  (d ?? [])
    .map((x) => x.text)
    .filter(Boolean)
    .join('; ');
const code = (cc: { coding?: { code?: string }[] } | undefined) => cc?.coding?.[0]?.code ?? '';
const join = (...parts: (string | undefined | false)[]) => parts.filter(Boolean).join(' · ');

/** Who saw the person: the attending clinician (ATND), else the first one the source named. */
function clinicianOf(e: Encounter): string | undefined {
  const named = (e.participant ?? []).filter((p) => p.individual?.display);
  const attending = named.find((p) => p.type?.some((t) => t.coding?.some((c) => c.code === 'ATND')));
  return (attending ?? named[0])?.individual?.display;
}

const ENCOUNTER_KIND: Record<string, string> = {
  IMP: 'Admission',
  ACUTE: 'Admission',
  NONAC: 'Admission',
  EMER: 'A&E attendance',
  AMB: 'Attendance',
  HH: 'Home visit',
  VR: 'Telephone or video',
  FLD: 'Field visit',
};

const CONDITION_CATEGORY: Record<string, string> = {
  'problem-list-item': 'Problem list',
  'encounter-diagnosis': 'Diagnosis at an encounter',
  'health-concern': 'Health concern',
};

type Describer = (r: never) => Description;

const DESCRIBERS: Record<string, Describer> = {
  Condition: (c: Condition) => ({
    title: conceptText(c.code),
    detail: join(
      CONDITION_CATEGORY[code(c.category?.[0])] ?? conceptText(c.category?.[0]),
      c.abatementDateTime && `resolved ${formatDate(c.abatementDateTime)}`,
      conceptText(c.severity),
    ),
    date: c.onsetDateTime ?? c.onsetPeriod?.start ?? c.recordedDate,
    status: code(c.clinicalStatus) || code(c.verificationStatus),
    key: conceptKey(c.code),
    kind: 'Diagnosis',
  }),
  Procedure: (p: Procedure) => ({
    title: conceptText(p.code),
    detail: join(conceptText(p.outcome), p.performer?.[0]?.actor?.display),
    date: p.performedDateTime ?? p.performedPeriod?.start,
    status: p.status,
    key: conceptKey(p.code),
    kind: 'Procedure',
  }),
  Observation: (o: Observation) => ({
    title: conceptText(o.code),
    ...observationValue(o),
    detail: join(o.note?.[0]?.text, conceptText(o.interpretation?.[0])),
    date: o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.effectiveInstant ?? o.issued,
    status: o.status,
    key: conceptKey(o.code),
    kind: categoryKind(o),
  }),
  DiagnosticReport: (d: DiagnosticReport) => ({
    title: conceptText(d.code),
    detail: join(
      d.conclusion,
      d.result?.length ? `${d.result.length} results` : undefined,
      d.resultsInterpreter?.[0]?.display && `reported by ${d.resultsInterpreter[0].display}`,
    ),
    date: d.effectiveDateTime ?? d.effectivePeriod?.start ?? d.issued,
    status: d.status,
    key: conceptKey(d.code),
    kind: categoryKind(d),
    children: (d.result ?? []).map((r) => r.reference?.split('/')[1] ?? '').filter(Boolean),
  }),
  ImagingStudy: (s: ImagingStudy) => ({
    title: s.description ?? conceptText(s.procedureCode?.[0]) ?? 'Imaging study',
    detail: join((s.modality ?? []).map((m) => m.display ?? m.code).join(', ')),
    date: s.started,
    status: s.status,
    key: conceptKey(s.procedureCode?.[0]) || (s.description ?? '').toLowerCase(),
    kind: 'Radiology',
  }),
  MedicationRequest: (m: MedicationRequest) => ({
    title: conceptText(m.medicationCodeableConcept) || m.medicationReference?.display || 'Medication',
    detail: dosageText(m.dosageInstruction),
    date: m.authoredOn,
    status: m.status,
    key: conceptKey(m.medicationCodeableConcept) || (m.medicationReference?.display ?? '').toLowerCase(),
    kind:
      code(m.courseOfTherapyType) === 'continuous'
        ? 'Repeat'
        : code(m.courseOfTherapyType)
          ? 'Acute'
          : 'Prescription',
  }),
  MedicationStatement: (m: MedicationStatement) => ({
    title: conceptText(m.medicationCodeableConcept) || m.medicationReference?.display || 'Medication',
    detail: dosageText(m.dosage),
    date: m.effectiveDateTime ?? m.effectivePeriod?.start ?? m.dateAsserted,
    status: m.status,
    key: conceptKey(m.medicationCodeableConcept) || (m.medicationReference?.display ?? '').toLowerCase(),
    kind: 'Medication record',
  }),
  AllergyIntolerance: (a: AllergyIntolerance) => ({
    title: conceptText(a.code),
    detail: join(
      (a.reaction ?? [])
        .flatMap((r) => (r.manifestation ?? []).map(conceptText))
        .filter(Boolean)
        .join(', '),
      a.criticality && `criticality ${a.criticality}`,
      a.reaction?.[0]?.severity,
    ),
    date: a.onsetDateTime ?? a.recordedDate,
    status: code(a.clinicalStatus) || code(a.verificationStatus),
    key: conceptKey(a.code),
    kind: a.type === 'intolerance' ? 'Intolerance' : 'Allergy',
  }),
  Immunization: (i: Immunization) => ({
    title: conceptText(i.vaccineCode),
    detail: join(
      i.protocolApplied?.[0]?.doseNumberPositiveInt !== undefined &&
        `dose ${i.protocolApplied[0].doseNumberPositiveInt}`,
      i.lotNumber && `batch ${i.lotNumber}`,
    ),
    date: i.occurrenceDateTime ?? i.recorded,
    status: i.status,
    key: conceptKey(i.vaccineCode),
    kind: 'Immunisation',
  }),
  Encounter: (e: Encounter) => ({
    title: conceptText(e.type?.[0]) || conceptText(e.serviceType) || e.class?.display || 'Encounter',
    detail: join(
      (e.reasonCode ?? []).map(conceptText).join(', '),
      e.serviceType && conceptText(e.serviceType) !== conceptText(e.type?.[0]) && conceptText(e.serviceType),
      e.period?.end &&
        e.period.end.slice(0, 10) !== e.period.start?.slice(0, 10) &&
        `until ${formatDate(e.period.end)}`,
      clinicianOf(e),
    ),
    date: e.period?.start,
    status: e.status,
    key: conceptKey(e.type?.[0]),
    kind: ENCOUNTER_KIND[e.class?.code ?? ''] ?? 'Encounter',
  }),
  EpisodeOfCare: (e: EpisodeOfCare) => ({
    title: conceptText(e.type?.[0]) || 'Episode of care',
    detail: join(
      e.period?.end ? `ended ${formatDate(e.period.end)}` : 'open',
      e.managingOrganization?.display,
    ),
    date: e.period?.start,
    status: e.status,
    key: conceptKey(e.type?.[0]),
    kind: 'Episode of care',
  }),
  Appointment: (a: Appointment) => ({
    title: a.description ?? (conceptText(a.serviceType?.[0]) || 'Appointment'),
    detail: join(
      conceptText(a.serviceType?.[0]) !== a.description && conceptText(a.serviceType?.[0]),
      (a.participant ?? [])
        .map((p) => p.actor?.display)
        .filter(Boolean)
        .join(', '),
    ),
    date: a.start ?? a.created,
    status: a.status,
    key: conceptKey(a.serviceType?.[0]),
    kind: 'Appointment',
  }),
  ServiceRequest: (s: ServiceRequest) => ({
    title: conceptText(s.code) || conceptText(s.category?.[0]) || 'Referral',
    detail: join(
      s.requester?.display && `from ${s.requester.display}`,
      s.performer?.[0]?.display && `to ${s.performer[0].display}`,
      (s.reasonCode ?? []).map(conceptText).join(', '),
      conceptText(s.category?.[0]),
    ),
    date: s.authoredOn ?? s.occurrenceDateTime,
    status: s.status,
    key: conceptKey(s.code),
    kind: 'Referral',
  }),
  DocumentReference: (d: DocumentReference) => ({
    title: d.description ?? (conceptText(d.type) || d.content?.[0]?.attachment?.title || 'Document'),
    detail: join(
      conceptText(d.type),
      d.author?.[0]?.display,
      d.content?.some((c) => c.attachment?.contentType === 'application/pdf') && 'PDF',
    ),
    date: d.context?.period?.start ?? d.date ?? d.content?.[0]?.attachment?.creation,
    status: d.docStatus ?? d.status,
    key: conceptKey(d.type),
    kind: conceptText(d.type) || 'Document',
  }),
  Composition: (c: Composition) => ({
    title: c.title || conceptText(c.type) || 'Document',
    detail: join(conceptText(c.type), c.author?.[0]?.display),
    date: c.date,
    status: c.status,
    key: conceptKey(c.type),
    kind: conceptText(c.type) || 'Document',
  }),
  QuestionnaireResponse: (q: QuestionnaireResponse) => ({
    title: q.questionnaire?.split('/').pop() ?? 'Questionnaire',
    detail: `${q.item?.length ?? 0} answers`,
    date: q.authored,
    status: q.status,
    key: q.questionnaire ?? '',
    kind: 'Questionnaire',
  }),
  CarePlan: (p: CarePlan) => ({
    title: p.title ?? (conceptText(p.category?.[0]) || 'Care plan'),
    detail: join(p.description, p.period?.end && `until ${formatDate(p.period.end)}`),
    date: p.period?.start ?? p.created,
    status: p.status,
    key: (p.title ?? '').toLowerCase(),
    kind: conceptText(p.category?.[0]) || 'Care plan',
  }),
  CareTeam: (t: CareTeam) => ({
    title: t.name ?? 'Care team',
    detail: join(
      (t.participant ?? []).map((p) => join(conceptText(p.role?.[0]), p.member?.display)).join(', '),
      t.period?.end && `until ${formatDate(t.period.end)}`,
    ),
    date: t.period?.start,
    status: t.status,
    key: (t.name ?? '').toLowerCase(),
    kind: 'Care team',
  }),
  Goal: (g: Goal) => ({
    title: conceptText(g.description) || 'Goal',
    detail: join(g.achievementStatus && conceptText(g.achievementStatus)),
    date: g.startDate,
    status: g.lifecycleStatus,
    key: conceptKey(g.description),
    kind: 'Goal',
  }),
  Flag: (f: Flag) => ({
    title: conceptText(f.code) || 'Alert',
    detail: join(conceptText(f.category?.[0])),
    date: f.period?.start,
    status: f.status,
    key: conceptKey(f.code),
    kind: 'Alert',
  }),
};

export function describe(resource: Resource): Description {
  const fn = DESCRIBERS[resource.resourceType] as ((r: Resource) => Description) | undefined;
  if (fn) return fn(resource);
  return { title: resource.resourceType, key: resource.resourceType };
}
