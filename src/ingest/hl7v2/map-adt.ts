/**
 * ADT (patient administration) → Patient and Encounter, with the allergies (AL1), diagnoses (DG1)
 * and procedures (PR1) an ADT message carries. The event says what happened to the visit:
 * admitted, transferred, discharged (including death), registered, pre-admitted, updated, or a
 * cancellation that undoes one of them. Merges (A40, A34) become a FHIR Patient `link` of type
 * `replaced-by`, which the master patient index turns into a merge.
 */
import type { AllergyIntolerance, Condition, Encounter, Patient, Procedure } from '@medplum/fhirtypes';
import { fhirId, patientRef, visitId, type MappingContext } from './common.ts';
import { mapPatient, mapPatientSegment, patientIds } from './map-patient.ts';
import type { Segment } from './message.ts';
import { practitionersIn } from './practitioners.ts';

/** The ADT events Sharedcare takes, and the visit status each leaves. */
const VISIT_STATUS: Record<string, Encounter['status'] | 'patient-only' | 'merge'> = {
  A01: 'in-progress',
  A02: 'in-progress',
  A03: 'finished',
  A04: 'arrived',
  A05: 'planned',
  A08: 'in-progress',
  A11: 'entered-in-error',
  A12: 'in-progress',
  A13: 'in-progress',
  A28: 'patient-only',
  A31: 'patient-only',
  A40: 'merge',
  A34: 'merge',
};

export const ADT_EVENTS = Object.keys(VISIT_STATUS);

/** NHS Data Dictionary treatment function codes (PV1-10 in UK feeds: 360 genitourinary medicine…). */
export const TREATMENT_FUNCTION =
  'https://fhir.nhs.uk/CodeSystem/NHSDataModelAndDictionary-treatment-function';

const CLASS: Record<string, { code: string; display: string }> = {
  I: { code: 'IMP', display: 'inpatient encounter' },
  O: { code: 'AMB', display: 'ambulatory' },
  E: { code: 'EMER', display: 'emergency' },
  P: { code: 'PRENC', display: 'pre-admission' },
  R: { code: 'AMB', display: 'ambulatory' },
  B: { code: 'AMB', display: 'ambulatory' },
};

export function mapAdt(ctx: MappingContext): void {
  const event = ctx.parsed.event;
  const kind = VISIT_STATUS[event];
  if (kind === 'merge') return mapMerge(ctx);
  const patientId = mapPatient(ctx);
  if (!patientId || kind === 'patient-only') {
    if (patientId) mapClinical(ctx, patientId, undefined);
    return;
  }
  const encounterId = mapEncounter(ctx, patientId, kind!);
  mapClinical(ctx, patientId, encounterId);
}

function mapEncounter(
  ctx: MappingContext,
  patientId: string,
  status: Encounter['status'],
): string | undefined {
  const pv1 = ctx.first('PV1');
  if (!pv1) {
    ctx.problems.push({ message: `ADT^${ctx.parsed.event} needs a PV1 segment`, expression: 'PV1' });
    return undefined;
  }
  const admitted = ctx.date(pv1, 44);
  const discharged = ctx.date(pv1, 45);
  const visit = pv1.get(19) || (admitted ? `${patientId}-${admitted}` : '');
  if (!visit) {
    ctx.problems.push({
      message: 'PV1-19 (visit number) is empty and PV1-44 gives no admission time',
      expression: 'PV1-19',
    });
    return undefined;
  }
  const id = visitId(visit);
  const cls = CLASS[pv1.get(2).toUpperCase()] ?? CLASS.O!;
  const service = pv1.get(10);
  const ward = [pv1.get(3, 1), pv1.get(3, 2), pv1.get(3, 3)].filter(Boolean).join(' ');
  const facility = pv1.get(3, 4);
  const pv2 = ctx.first('PV2');
  const reason = pv2 ? ctx.coded(pv2, 3) : undefined;
  const event = ctx.parsed.event;
  const finished = status === 'finished' || (event === 'A08' && !!discharged);
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id,
    identifier: [{ system: `urn:sharedcare:source:${ctx.sourceId}:visit`, value: visit }],
    status: finished ? 'finished' : status,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', ...cls },
    subject: patientRef(patientId),
    ...(service
      ? {
          serviceType: /^\d{3}$/.test(service)
            ? { coding: [{ system: TREATMENT_FUNCTION, code: service }] }
            : ctx.localCode('hospital-service', service),
        }
      : {}),
    // the clinic or ward (PV1-3.1) as a local code, so a region can map it (a GUM clinic)
    ...(pv1.get(3, 1)
      ? { type: [ctx.localCode(pv1.get(2).toUpperCase() === 'I' ? 'ward' : 'clinic', pv1.get(3, 1))] }
      : {}),
    ...(admitted || (discharged && event !== 'A13')
      ? {
          period: {
            ...(admitted ? { start: admitted } : {}),
            ...(discharged && event !== 'A13' ? { end: discharged } : {}),
          },
        }
      : {}),
    ...(ward || facility
      ? { location: [{ location: { display: [ward, facility].filter(Boolean).join(', ') } }] }
      : {}),
    ...(reason ? { reasonCode: [reason] } : {}),
    ...visitClinicians(ctx, pv1),
    ...(pv1.get(36)
      ? {
          hospitalization: {
            dischargeDisposition: {
              coding: [{ system: ctx.systemUri('discharge-disposition'), code: pv1.get(36) }],
            },
          },
        }
      : {}),
  };
  ctx.add(pv1.at, encounter);
  return id;
}

/** The visit's doctors by their part in it (PV1-7, -8, -9, -17), as the v3 participation types. */
const VISIT_ROLES: [field: number, code: string, display: string][] = [
  [7, 'ATND', 'attender'],
  [8, 'REF', 'referrer'],
  [9, 'CON', 'consultant'],
  [17, 'ADM', 'admitter'],
];
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

function visitClinicians(ctx: MappingContext, pv1: Segment): Pick<Encounter, 'participant'> {
  const participant = VISIT_ROLES.flatMap(([field, code, display]) =>
    practitionersIn(ctx, pv1, field).map((individual) => ({
      type: [{ coding: [{ system: PARTICIPATION_TYPE, code, display }] }],
      individual,
    })),
  );
  return participant.length ? { participant } : {};
}

/** AL1, DG1 and PR1: allergies, diagnoses and procedures, linked to the visit when there is one. */
function mapClinical(ctx: MappingContext, patientId: string, encounterId: string | undefined): void {
  const encounter = encounterId ? { encounter: { reference: `Encounter/${encounterId}` } } : {};
  for (const al1 of ctx.all('AL1')) {
    const code = ctx.coded(al1, 3);
    if (!code) {
      ctx.problems.push({ message: `${al1.at}-3 (allergen) is empty`, expression: `${al1.at}-3` });
      continue;
    }
    const category = { DA: 'medication', FA: 'food', EA: 'environment', MA: 'medication' }[
      al1.get(2, 1).toUpperCase()
    ];
    const criticality = al1.get(4).toUpperCase() === 'SV' ? 'high' : undefined;
    const reaction = al1.get(5);
    const onset = ctx.date(al1, 6);
    const allergy: AllergyIntolerance = {
      resourceType: 'AllergyIntolerance',
      id: fhirId(patientId, 'allergy', code.coding?.[0]?.code ?? code.text ?? ''),
      clinicalStatus: {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' },
        ],
      },
      code,
      patient: patientRef(patientId),
      ...(category ? { category: [category as 'medication'] } : {}),
      ...(criticality ? { criticality } : {}),
      ...(reaction ? { reaction: [{ manifestation: [{ text: reaction }] }] } : {}),
      ...(onset ? { onsetDateTime: onset } : {}),
    };
    ctx.add(al1.at, allergy);
  }
  for (const dg1 of ctx.all('DG1')) {
    const code = ctx.coded(dg1, 3);
    if (!code) continue;
    const recorded = ctx.date(dg1, 5);
    const condition: Condition = {
      resourceType: 'Condition',
      id: fhirId(
        dg1.get(20) || `${encounterId ?? patientId}-dx-${code.coding?.[0]?.code ?? code.text ?? ''}`,
      ),
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/condition-category',
              code: 'encounter-diagnosis',
            },
          ],
        },
      ],
      code,
      subject: patientRef(patientId),
      ...encounter,
      ...(recorded ? { recordedDate: recorded } : {}),
    };
    ctx.add(dg1.at, condition);
  }
  for (const pr1 of ctx.all('PR1')) {
    const code = ctx.coded(pr1, 3);
    if (!code) continue;
    const performed = ctx.date(pr1, 5);
    const procedure: Procedure = {
      resourceType: 'Procedure',
      id: fhirId(
        `${encounterId ?? patientId}-proc-${code.coding?.[0]?.code ?? code.text ?? ''}-${performed ?? ''}`,
      ),
      status: 'completed',
      code,
      subject: patientRef(patientId),
      ...encounter,
      ...(performed ? { performedDateTime: performed } : {}),
    };
    ctx.add(pr1.at, procedure);
  }
}

/**
 * A40 / A34: the record named in MRG-1 is replaced by the one in PID-3. Each PID/MRG pair becomes
 * the surviving Patient and the retired one with a `replaced-by` link to it.
 */
function mapMerge(ctx: MappingContext): void {
  const pids = ctx.all('PID');
  const mrgs = ctx.all('MRG');
  if (mrgs.length === 0) {
    ctx.problems.push({ message: `ADT^${ctx.parsed.event} needs an MRG segment`, expression: 'MRG' });
    return;
  }
  pids.forEach((pid, k) => {
    const mrg = mrgs[k];
    if (!mrg) {
      ctx.problems.push({ message: `${pid.at} has no MRG segment to merge`, expression: `${pid.at}` });
      return;
    }
    const survivorFhirId = mapPatientSegment(ctx, pid);
    if (!survivorFhirId) return;
    const retired = patientIds(ctx, mrg, 1);
    const retiredId = retired.localId ?? retired.nhs;
    if (!retiredId) {
      ctx.problems.push({
        message: `${mrg.at}-1 (prior patient identifier) is empty`,
        expression: `${mrg.at}-1`,
      });
      return;
    }
    ctx.add(mrg.at, {
      resourceType: 'Patient',
      id: fhirId(retiredId),
      active: false,
      identifier: retired.identifiers,
      link: [{ type: 'replaced-by', other: { reference: `Patient/${survivorFhirId}` } }],
    } as Patient);
  });
}
