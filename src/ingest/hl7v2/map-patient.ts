/**
 * PID (with PD1) → Patient, following UK conventions: the NHS number in PID-3 with identifier type
 * NH or assigning authority NHS (older feeds: PID-2 or PID-19, sometimes written with spaces), the
 * hospital number as the source's local identifier, the registered GP practice from PD1-3 and the
 * usual GP from PD1-4.
 */
import type {
  Address,
  ContactPoint,
  HumanName,
  Identifier,
  Organization,
  Patient,
  Reference,
} from '@medplum/fhirtypes';
import { ODS_SYSTEM } from '../../fhir/index.ts';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from '../../identity/index.ts';
import { fhirId, type MappingContext } from './common.ts';
import type { Segment } from './message.ts';
import { practitionersIn } from './practitioners.ts';

const NAME_USE: Record<string, HumanName['use']> = {
  L: 'official',
  D: 'usual',
  M: 'maiden',
  N: 'nickname',
  A: 'anonymous',
  B: 'old',
};
const GENDER: Record<string, Patient['gender']> = {
  M: 'male',
  F: 'female',
  O: 'other',
  A: 'other',
  U: 'unknown',
  N: 'unknown',
};

function isNhsIdentifier(authority: string, type: string): boolean {
  return type.toUpperCase() === 'NH' || /^NHS/i.test(authority) || /^NHS/i.test(type);
}

interface PatientIds {
  nhs?: string;
  /** the source's own id for this record */
  localId?: string;
  identifiers: Identifier[];
}

/** The identifiers of a PID segment (or an MRG segment's field 1, which has the same shape). */
export function patientIds(
  ctx: MappingContext,
  seg: Segment,
  field: number,
  fallbacks: number[] = [],
): PatientIds {
  const out: PatientIds = { identifiers: [] };
  for (let rep = 0; rep < Math.max(1, seg.repetitions(field)); rep++) {
    const value = seg.get(field, 1, rep);
    if (!value) continue;
    const authority = seg.get(field, 4, rep);
    const type = seg.get(field, 5, rep);
    if (isNhsIdentifier(authority, type)) {
      const nhs = normaliseNhsNumber(value);
      if (isValidNhsNumber(nhs)) out.nhs ??= nhs;
      else
        out.identifiers.push({
          system: `urn:sharedcare:source:${ctx.sourceId}:unverified-nhs-number`,
          value: nhs,
        });
      continue;
    }
    out.localId ??= value;
    out.identifiers.push({
      system: `urn:sharedcare:source:${ctx.sourceId}:id:${encodeURIComponent(authority || type || 'local')}`,
      value,
      ...(type
        ? { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: type }] } }
        : {}),
    });
  }
  for (const f of fallbacks) {
    const nhs = normaliseNhsNumber(seg.get(f));
    if (!out.nhs && isValidNhsNumber(nhs)) out.nhs = nhs;
  }
  if (out.nhs) out.identifiers.unshift({ system: NHS_NUMBER_SYSTEM, value: out.nhs });
  return out;
}

/** The Patient of a message's PID segment, added to the context; returns its local id. */
export function mapPatient(ctx: MappingContext): string | undefined {
  const pid = ctx.first('PID');
  if (!pid) {
    ctx.problems.push({ message: 'the message has no PID segment', expression: 'PID' });
    return undefined;
  }
  return mapPatientSegment(ctx, pid);
}

/** One PID segment's Patient, added to the context; returns its local id. */
export function mapPatientSegment(ctx: MappingContext, pid: Segment): string | undefined {
  const ids = patientIds(ctx, pid, 3, [2, 19]);
  const local = ids.localId ?? ids.nhs;
  if (!local) {
    ctx.problems.push({ message: `${pid.at}-3 has no patient identifier`, expression: `${pid.at}-3` });
    return undefined;
  }
  const id = fhirId(local);
  const pd1 = pd1Of(ctx, pid);
  const deathDate = ctx.date(pid, 29);
  const patient: Patient = {
    resourceType: 'Patient',
    id,
    identifier: ids.identifiers,
    ...names(pid),
    ...optional('birthDate', ctx.date(pid, 7, 1, true)),
    ...optional('gender', GENDER[pid.get(8).toUpperCase()]),
    ...addresses(pid),
    ...telecoms(pid),
    ...(deathDate
      ? { deceasedDateTime: deathDate }
      : pid.get(30).toUpperCase() === 'Y'
        ? { deceasedBoolean: true }
        : {}),
    ...generalPractitioners(ctx, pd1),
    ...(pd1?.get(12).toUpperCase() === 'Y'
      ? {
          meta: {
            security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
          },
        }
      : {}),
  };
  ctx.add(pid.at, patient);
  return id;
}

/**
 * The PD1 of this PID: the first after it, before the next patient's PID. A message of several
 * patients (A40's survivor and the record merged into it) has one per PID, and each is that
 * patient's own; a message of one patient may carry it anywhere.
 */
function pd1Of(ctx: MappingContext, pid: Segment): Segment | undefined {
  const at = ctx.segments.indexOf(pid);
  for (const seg of ctx.segments.slice(at + 1)) {
    if (seg.name === 'PID') break;
    if (seg.name === 'PD1') return seg;
  }
  return ctx.all('PID').length === 1 ? ctx.first('PD1') : undefined;
}

/**
 * The registered practice (PD1-3: the name, and the ODS code in component 3) and the patient's
 * usual GP (PD1-4, a clinician, often by national GP code), in that order.
 */
function generalPractitioners(
  ctx: MappingContext,
  pd1: Segment | undefined,
): Pick<Patient, 'generalPractitioner'> {
  if (!pd1) return {};
  const practice: Reference<Organization>[] = pd1.value(3, 3)
    ? [
        {
          identifier: { system: ODS_SYSTEM, value: pd1.value(3, 3) },
          ...optional('display', pd1.value(3, 1)),
        },
      ]
    : [];
  const generalPractitioner = [...practice, ...practitionersIn(ctx, pd1, 4)];
  return generalPractitioner.length ? { generalPractitioner } : {};
}

function optional<K extends string, V>(key: K, value: V | undefined | ''): Partial<Record<K, V>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, V>);
}

function names(pid: Segment): { name?: HumanName[] } {
  const out: HumanName[] = [];
  for (let rep = 0; rep < Math.max(1, pid.repetitions(5)); rep++) {
    const family = pid.get(5, 1, rep);
    const given = [pid.get(5, 2, rep), pid.get(5, 3, rep)].filter(Boolean);
    if (!family && given.length === 0) continue;
    out.push({
      ...optional('use', NAME_USE[pid.get(5, 7, rep).toUpperCase()]),
      ...optional('family', family),
      ...(given.length ? { given } : {}),
      ...(pid.get(5, 5, rep) ? { prefix: [pid.get(5, 5, rep)] } : {}),
    });
  }
  return out.length ? { name: out } : {};
}

function addresses(pid: Segment): { address?: Address[] } {
  const out: Address[] = [];
  for (let rep = 0; rep < Math.max(1, pid.repetitions(11)); rep++) {
    const line = [pid.get(11, 1, rep), pid.get(11, 2, rep)].filter(Boolean);
    const a: Address = {
      ...(line.length ? { line } : {}),
      ...optional('city', pid.get(11, 3, rep)),
      ...optional('district', pid.get(11, 4, rep)),
      ...optional('postalCode', pid.get(11, 5, rep)),
      ...optional('country', pid.get(11, 6, rep)),
      ...(pid.get(11, 7, rep).toUpperCase() === 'H' ? { use: 'home' as const } : {}),
    };
    if (Object.keys(a).length > 0) out.push(a);
  }
  return out.length ? { address: out } : {};
}

function telecoms(pid: Segment): { telecom?: ContactPoint[] } {
  const out: ContactPoint[] = [];
  for (const [field, use] of [
    [13, 'home'],
    [14, 'work'],
  ] as const) {
    for (let rep = 0; rep < Math.max(1, pid.repetitions(field)); rep++) {
      const email = pid.get(field, 4, rep);
      const phone = pid.get(field, 1, rep) || pid.get(field, 12, rep);
      if (email) out.push({ system: 'email', value: email, use });
      else if (phone) out.push({ system: 'phone', value: phone, use });
    }
  }
  return out.length ? { telecom: out } : {};
}
