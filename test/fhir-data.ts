/** Small hand-made FHIR resources for the project's own tests (no external fixtures needed). */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';

export const NHS_A = '9990000018';
export const NHS_B = '9990000026';

export function patient(localId: string, nhs?: string, extra: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'Patient',
    id: localId,
    identifier: [
      ...(nhs ? [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs }] : []),
      { system: 'https://example.nhs.uk/Id/local', value: localId },
    ],
    name: [{ family: 'Testperson', given: ['Alex'] }],
    gender: 'female',
    birthDate: '1970-01-01',
    ...extra,
  } as Resource;
}

export function condition(
  id: string,
  patientRef: string,
  code: { system: string; code: string; display: string },
  extra: Record<string, unknown> = {},
): Resource {
  return {
    resourceType: 'Condition',
    id,
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    code: { coding: [code] },
    subject: { reference: patientRef },
    onsetDateTime: '2021-03-04',
    ...extra,
  } as Resource;
}

/** A prescription whose reason is the condition `reason` names (a reference, or an identifier). */
export function prescription(
  id: string,
  patientRef: string,
  text: string,
  reason: Record<string, unknown>,
): Resource {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { text },
    subject: { reference: patientRef },
    reasonReference: [reason],
  } as Resource;
}

export function observation(
  id: string,
  patientRef: string,
  value: number,
  date = '2022-04-15',
  extra: Record<string, unknown> = {},
): Resource {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: {
      coding: [{ system: 'http://snomed.info/sct', code: '1049301000000100', display: 'HbA1c level' }],
    },
    subject: { reference: patientRef },
    effectiveDateTime: date,
    valueQuantity: { value, unit: 'mmol/mol', system: 'http://unitsofmeasure.org', code: 'mmol/mol' },
    ...extra,
  } as Resource;
}

/** A clinic letter (DocumentReference) with one attachment, as a GP or hospital system sends one. */
export function letter(
  id: string,
  patientRef: string,
  attachment: { contentType?: string; data: string },
  date = '2024-06-01T10:00:00Z',
): Resource {
  return {
    resourceType: 'DocumentReference',
    id,
    status: 'current',
    type: { text: 'Clinic letter' },
    subject: { reference: patientRef },
    date,
    content: [{ attachment }],
  } as Resource;
}

export const HYPERTENSION = {
  system: 'http://snomed.info/sct',
  code: '38341003',
  display: 'Hypertensive disorder',
};
export const HIV = {
  system: 'http://snomed.info/sct',
  code: '86406008',
  display: 'Human immunodeficiency virus infection',
};

/** A hospital's or GP system's own number for the patient, beside the NHS number. */
export const MRN_SYSTEM = 'https://example.nhs.uk/Id/mrn';

/** A Patient carrying its NHS number and a local record number (MRN_SYSTEM). */
export function patientWithMrn(localId: string, nhs: string, mrn: string): Resource {
  return patient(localId, nhs, {
    identifier: [
      { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs },
      { system: MRN_SYSTEM, value: mrn },
    ],
  });
}

/** A transaction entry that PUTs the resource at its own id. */
export function putEntry(res: Resource): BundleEntry {
  return { resource: res, request: { method: 'PUT', url: `${res.resourceType}/${res.id}` } };
}

export function bundle(
  type: 'transaction' | 'batch' | 'collection',
  resources: Resource[],
  useUrn = false,
): Bundle {
  return {
    resourceType: 'Bundle',
    type,
    entry: resources.map((r) => ({
      ...(useUrn ? { fullUrl: `urn:uuid:${r.id}` } : {}),
      resource: r,
      ...(type === 'collection'
        ? {}
        : { request: { method: 'PUT' as const, url: `${r.resourceType}/${r.id}` } }),
    })),
  };
}

/** A GP's first record of a patient (NHS_A): the Patient, a hypertension Condition, an Observation. */
export function firstRecord(): Bundle {
  return bundle('transaction', [
    patient('p1', NHS_A),
    condition('c1', 'Patient/p1', HYPERTENSION),
    observation('o1', 'Patient/p1', 48),
  ]);
}
