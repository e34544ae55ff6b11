/**
 * The rest of a hospital's traffic: MDM (letters and discharge summaries) → DocumentReference,
 * SIU (scheduling) → Appointment, REF^I12 (referral) → ServiceRequest, VXU^V04 → Immunization,
 * and PPR problem messages → Condition.
 */
import type {
  Appointment,
  Attachment,
  Condition,
  DocumentReference,
  Immunization,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { fhirId, patientRef, type MappingContext } from './common.ts';
import { localPeriodBounds } from './dates.ts';
import { mapPatient } from './map-patient.ts';
import { practitionersIn } from './practitioners.ts';
import { embeddedDocument, isDocument } from './map-results.ts';

/** MDM^T02/T04/T08 carry a document; T11 cancels one. */
export function mapDocument(ctx: MappingContext): void {
  const patientId = mapPatient(ctx);
  const txa = ctx.first('TXA');
  if (!txa) {
    ctx.problems.push({ message: 'an MDM message needs a TXA segment', expression: 'TXA' });
    return;
  }
  if (!patientId) return;
  const docNumber = txa.get(12) || txa.get(16);
  if (!docNumber) {
    ctx.problems.push({ message: 'TXA-12 (unique document number) is empty', expression: 'TXA-12' });
    return;
  }
  const content: Attachment[] = [];
  const lines: string[] = [];
  for (const obx of ctx.all('OBX')) {
    if (isDocument(obx)) {
      const doc = embeddedDocument(ctx, obx);
      if (doc) content.push(doc);
    } else for (let rep = 0; rep < Math.max(1, obx.repetitions(5)); rep++) lines.push(obx.get(5, 1, rep));
  }
  const text = lines.join('\n').trim();
  if (text)
    content.unshift({ contentType: 'text/plain; charset=utf-8', data: Buffer.from(text).toString('base64') });
  const cancelled = ctx.parsed.event === 'T11';
  if (content.length === 0 && !cancelled) {
    ctx.problems.push({ message: 'the document has no content (OBX-5)', expression: 'OBX-5' });
    return;
  }
  const type = ctx.coded(txa, 2);
  const when = ctx.date(txa, 4) ?? ctx.date(txa, 6);
  const completion = txa.get(17).toUpperCase();
  // the originator (TXA-9) wrote it; feeds that leave that out name the clinician in TXA-5
  const originators = practitionersIn(ctx, txa, 9);
  const authors = originators.length ? originators : practitionersIn(ctx, txa, 5);
  const reference: DocumentReference = {
    resourceType: 'DocumentReference',
    id: fhirId('doc', docNumber),
    masterIdentifier: { system: `urn:sharedcare:source:${ctx.sourceId}:document`, value: docNumber },
    status: cancelled ? 'entered-in-error' : 'current',
    ...(['IP', 'IN', 'PA'].includes(completion)
      ? { docStatus: 'preliminary' as const }
      : { docStatus: 'final' as const }),
    ...(type ? { type } : {}),
    subject: patientRef(patientId),
    ...(authors.length ? { author: authors } : {}),
    ...(when && when.includes('T') ? { date: when } : {}),
    ...(type?.text ? { description: type.text } : {}),
    content: (content.length ? content : [{ contentType: 'text/plain', data: '' }]).map((attachment) => ({
      attachment: { ...attachment, ...(type?.text && !attachment.title ? { title: type.text } : {}) },
    })),
  };
  ctx.add(txa.at, reference);
}

const APPOINTMENT_STATUS: Record<string, Appointment['status']> = {
  S12: 'booked',
  S13: 'booked',
  S14: 'booked',
  S15: 'cancelled',
  S26: 'noshow',
};

export const SIU_EVENTS = Object.keys(APPOINTMENT_STATUS);

export function mapAppointment(ctx: MappingContext): void {
  const patientId = mapPatient(ctx);
  const sch = ctx.first('SCH');
  if (!sch) {
    ctx.problems.push({ message: 'an SIU message needs an SCH segment', expression: 'SCH' });
    return;
  }
  if (!patientId) return;
  const apptId = sch.get(2) || sch.get(1);
  if (!apptId) {
    ctx.problems.push({ message: 'SCH-2 (filler appointment id) is empty', expression: 'SCH-2' });
    return;
  }
  const tq1 = ctx.first('TQ1');
  const ais = ctx.first('AIS');
  const ail = ctx.first('AIL');
  const status = APPOINTMENT_STATUS[ctx.parsed.event]!;
  const { start, end } = appointmentTimes(ctx, sch, tq1, ais);
  if (!start && status !== 'cancelled') {
    ctx.problems.push({ message: 'SCH-11.4 or TQ1-7 (appointment start) is empty', expression: 'SCH-11' });
    return;
  }
  const service = ais ? ctx.coded(ais, 3) : undefined;
  const clinic = ail ? [ail.get(3, 1), ail.get(3, 4), ail.get(3, 9)].filter(Boolean).join(', ') : '';
  const reason = ctx.coded(sch, 7);
  const appointment: Appointment = {
    resourceType: 'Appointment',
    id: fhirId('appt', apptId),
    identifier: [{ system: `urn:sharedcare:source:${ctx.sourceId}:appointment`, value: apptId }],
    status,
    ...(service ? { serviceType: [service] } : {}),
    ...(ail?.get(3, 1) ? { serviceCategory: [ctx.localCode('clinic', ail.get(3, 1))] } : {}),
    ...(reason ? { reasonCode: [reason] } : {}),
    ...appointmentPeriod(start, end),
    participant: [
      { actor: { ...patientRef(patientId) }, status: 'accepted' },
      ...(clinic ? [{ actor: { display: clinic }, status: 'accepted' as const }] : []),
      ...ctx
        .all('AIP')
        .flatMap((aip) => practitionersIn(ctx, aip, 3))
        .map((actor) => ({ actor, status: 'accepted' as const })),
    ],
  };
  ctx.add(sch.at, appointment);
}

/** Minutes in one unit of an appointment's duration (SCH-10, AIS-8: ISO+ or ANSI units); none: minutes. */
const MINUTES_PER_UNIT: Record<string, number> = {
  '': 1,
  m: 1,
  min: 1,
  mins: 1,
  minute: 1,
  minutes: 1,
  s: 1 / 60,
  sec: 1 / 60,
  second: 1 / 60,
  seconds: 1 / 60,
  h: 60,
  hr: 60,
  hrs: 60,
  hour: 60,
  hours: 60,
  d: 1440,
  day: 1440,
  days: 1440,
};

/** No appointment is longer than a year: a longer length is a feed's error, not a length. */
const LONGEST_MINUTES = 366 * 24 * 60;

/**
 * A duration field and its units field, in minutes; undefined when absent, in units not known, or
 * past a year (99999999999 days threw from toISOString, and the message went unanswered).
 */
function durationMinutes(seg: { get(f: number, c?: number): string } | undefined, field: number) {
  const n = Number(seg?.get(field));
  const per = MINUTES_PER_UNIT[(seg?.get(field + 1) ?? '').trim().toLowerCase()];
  return n > 0 && per !== undefined && n * per <= LONGEST_MINUTES ? n * per : undefined;
}

const minutesBetween = (start: string, end: string) =>
  Math.max(1, Math.round((Date.parse(end) - Date.parse(start)) / 60_000));

/**
 * When an appointment starts and ends. The start from TQ1-7 (v2.5 and later, where SCH-11 is
 * deprecated), else SCH-11.4, else AIS-4; the end from the same timing's end (TQ1-8, SCH-11.5), else
 * the start plus the duration: SCH-9 in SCH-10's units, else AIS-7 in AIS-8's (a duration in seconds
 * or hours is not read as minutes). An end not after the start is not kept. A start without a time
 * keeps an end without one (the dates are spanned, appointmentPeriod).
 */
function appointmentTimes(
  ctx: MappingContext,
  sch: NonNullable<ReturnType<MappingContext['first']>>,
  tq1: ReturnType<MappingContext['first']>,
  ais: ReturnType<MappingContext['first']>,
): { start?: string; end?: string } {
  const fromTq1 = tq1?.get(7) ? ctx.date(tq1, 7) : undefined;
  const fromSch = fromTq1 === undefined && sch.get(11, 4) ? ctx.date(sch, 11, 4) : undefined;
  const start = fromTq1 ?? fromSch ?? (ais?.get(4) ? ctx.date(ais, 4) : undefined);
  const timed =
    (fromTq1 && tq1?.get(8) ? ctx.date(tq1, 8) : undefined) ??
    (fromSch && sch.get(11, 5) ? ctx.date(sch, 11, 5) : undefined);
  if (!start?.includes('T'))
    return start ? { start, ...(timed && !timed.includes('T') ? { end: timed } : {}) } : {};
  if (timed?.includes('T') && Date.parse(timed) > Date.parse(start)) return { start, end: timed };
  const minutes = durationMinutes(sch, 9) ?? durationMinutes(ais, 7);
  return minutes ? { start, end: new Date(Date.parse(start) + minutes * 60_000).toISOString() } : { start };
}

/** What an Appointment says when the source gave no end or length, or dates without a time. */
const NO_LENGTH =
  'The sending system gave no time this appointment ends, nor its length: its end is its start.';
const DATES_ONLY = 'The sending system gave the date of this appointment, not its time.';

/**
 * An appointment's start, end and length in FHIR's terms. R4 wants both start and end or neither
 * (app-2), and both for any appointment but a proposed, cancelled or waitlisted one (app-3): an
 * Appointment with a start alone was invalid, and refused outright under full validation. So a
 * start without an end or length ends when it starts, and dates without a time (a day, or a month
 * or year) span those dates; either way a comment says so, and no length (minutesDuration) is
 * claimed that the source did not give.
 */
function appointmentPeriod(
  start: string | undefined,
  end: string | undefined,
): Pick<Appointment, 'start' | 'end' | 'minutesDuration' | 'comment'> {
  if (start?.includes('T'))
    return end
      ? { start, end, minutesDuration: minutesBetween(start, end) }
      : { start, end: start, comment: NO_LENGTH };
  const span = start === undefined ? undefined : (localPeriodBounds(start, end) ?? localPeriodBounds(start));
  return span ? { ...span, comment: DATES_ONLY } : {};
}

/** REF^I12: a referral, to the provider PRD names as referred-to (RT) from the referring one (RP). */
export function mapReferral(ctx: MappingContext): void {
  const patientId = mapPatient(ctx);
  const rf1 = ctx.first('RF1');
  if (!rf1) {
    ctx.problems.push({ message: 'a referral needs an RF1 segment', expression: 'RF1' });
    return;
  }
  if (!patientId) return;
  const refId = rf1.get(6) || rf1.get(11);
  if (!refId) {
    ctx.problems.push({ message: 'RF1-6 (originating referral identifier) is empty', expression: 'RF1-6' });
    return;
  }
  const provider = (role: string) => ctx.all('PRD').find((p) => p.get(1).toUpperCase() === role);
  const to = provider('RT');
  const from = provider('RP');
  const nameOf = (p: typeof to) =>
    p ? [p.get(2, 2), p.get(2, 1), p.get(7, 1)].filter(Boolean).join(' ') : '';
  const authored = ctx.date(rf1, 7);
  const status =
    { A: 'active', P: 'active', R: 'revoked', E: 'completed', G: 'active' }[rf1.get(1).toUpperCase()] ??
    'active';
  const request: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: fhirId('referral', refId),
    identifier: [{ system: `urn:sharedcare:source:${ctx.sourceId}:referral`, value: refId }],
    status: status as ServiceRequest['status'],
    intent: 'order',
    category: [
      { coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] },
    ],
    ...optionalCoded('code', ctx.coded(rf1, 3)),
    subject: patientRef(patientId),
    ...(authored ? { authoredOn: authored } : {}),
    ...(nameOf(to) ? { performer: [{ display: nameOf(to) }] } : {}),
    ...(nameOf(from) ? { requester: { display: nameOf(from) } } : {}),
    ...(ctx.coded(rf1, 10) ? { reasonCode: [ctx.coded(rf1, 10)!] } : {}),
  };
  ctx.add(rf1.at, request);
}

function optionalCoded<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value ? ({ [key]: value } as Record<K, V>) : {};
}

/** VXU^V04: each RXA a vaccination given (or refused). */
export function mapImmunisations(ctx: MappingContext): void {
  const patientId = mapPatient(ctx);
  if (!patientId) return;
  for (const rxa of ctx.all('RXA')) {
    const vaccine = ctx.coded(rxa, 5);
    if (!vaccine) {
      ctx.problems.push({ message: `${rxa.at}-5 (administered code) is empty`, expression: `${rxa.at}-5` });
      continue;
    }
    const given = ctx.date(rxa, 3);
    if (!given) {
      ctx.problems.push({
        message: `${rxa.at}-3 (date of administration) is empty`,
        expression: `${rxa.at}-3`,
      });
      continue;
    }
    const completion = rxa.get(20).toUpperCase();
    const immunisation: Immunization = {
      resourceType: 'Immunization',
      id: fhirId(patientId, 'imm', vaccine.coding?.[0]?.code ?? '', given),
      status:
        completion === 'RE' || completion === 'NA'
          ? 'not-done'
          : completion === 'D'
            ? 'entered-in-error'
            : 'completed',
      vaccineCode: vaccine,
      patient: patientRef(patientId),
      occurrenceDateTime: given,
      ...(rxa.get(15) ? { lotNumber: rxa.get(15) } : {}),
    };
    ctx.add(rxa.at, immunisation);
  }
}

/** PPR^PC1–PC3: problems (PRB) as Conditions. */
export function mapProblems(ctx: MappingContext): void {
  const patientId = mapPatient(ctx);
  if (!patientId) return;
  for (const prb of ctx.all('PRB')) {
    const code = ctx.coded(prb, 3);
    if (!code) {
      ctx.problems.push({ message: `${prb.at}-3 (problem id) is empty`, expression: `${prb.at}-3` });
      continue;
    }
    const instance = prb.get(4) || `${patientId}-prb-${code.coding?.[0]?.code ?? code.text ?? ''}`;
    const recorded = ctx.date(prb, 2);
    const deleted = prb.get(1).toUpperCase() === 'DE';
    const condition: Condition = {
      resourceType: 'Condition',
      id: fhirId('problem', instance),
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      ...(deleted
        ? {
            verificationStatus: {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
                  code: 'entered-in-error',
                },
              ],
            },
          }
        : {}),
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' },
          ],
        },
      ],
      code,
      subject: patientRef(patientId),
      ...(recorded ? { recordedDate: recorded } : {}),
    };
    ctx.add(prb.at, condition);
  }
}
