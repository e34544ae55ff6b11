/**
 * The person's GP as the banner shows it: the registered practice (an organisation, by name and
 * ODS code) and the usual GP (a clinician, by name). A source sends both in
 * Patient.generalPractitioner (HL7 v2 PD1-3 and PD1-4; a FHIR GP record's references), in any
 * order; Sharedcare serves a clinician as a display name with the directory entry it stands for.
 */
import type { Patient, Reference } from '@medplum/fhirtypes';

const DIRECTORY_ENTRY = 'https://sharedcare.dev/fhir/StructureDefinition/directory-entry';

/** What the reference names: "Practitioner", "Organization", … or undefined when it cannot tell. */
function kindOf(ref: Reference): string | undefined {
  const target = ref.reference ?? ref.extension?.find((e) => e.url === DIRECTORY_ENTRY)?.valueString;
  return ref.type ?? target?.split('/')[0];
}

const isClinician = (ref: Reference) => ['Practitioner', 'PractitionerRole'].includes(kindOf(ref) ?? '');

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

export function generalPractitioners(patient: Patient): { practice?: string; usualGp?: string } {
  const refs = patient.generalPractitioner ?? [];
  // the practice by its ODS code first: a clinician a source named without saying so is not one
  const practice = refs.find((r) => r.identifier?.system === ODS) ?? refs.find((r) => !isClinician(r));
  const gp = refs.find((r) => isClinician(r) && r.display);
  const code = practice?.identifier?.value;
  const practiceText = practice && `${practice.display ?? ''}${code ? ` (${code})` : ''}`.trim();
  return {
    ...(practiceText ? { practice: practiceText } : {}),
    ...(gp?.display ? { usualGp: gp.display } : {}),
  };
}
