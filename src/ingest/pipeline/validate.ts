/**
 * Stage: validate. Every resource is checked before anything is written (all or nothing): the FHIR
 * schema (or the full profile), and that a clinical item names its patient. Every problem is
 * located ("Bundle.entry[2].resource.subject"), up to a hundred.
 */
import { SharedcareError, type Problem } from '../../errors/index.ts';
import {
  CLINICAL_TYPES,
  isClinicalType,
  patientIdentifier,
  patientReferences,
  validateFhirResource,
  type ValidationMode,
} from '../../fhir/index.ts';
import type { Entry } from '../parse.ts';
import { entryLocalId } from '../references.ts';

const MAX_PROBLEMS = 100;

/**
 * The longest name a Patient may be filed under. One sent without an id is named by its first
 * identifier, whose value FHIR does not bound; the source record's key (source, name) must fit an
 * index entry (PostgreSQL's btree takes about 2,700 bytes).
 */
const MAX_PATIENT_NAME = 1000;

/** Where an entry's resource is, for problems: a Bundle entry's resource, or the line itself. */
export function resourcePath(e: Entry): string {
  return e.at.startsWith('Bundle') ? `${e.at}.resource` : e.at;
}

export function validateEntries(entries: Entry[], mode: ValidationMode): void {
  const problems: Problem[] = [];
  for (const e of entries) {
    if (!e.resource) continue;
    const at = resourcePath(e);
    const own = validateFhirResource(e.resource, at, mode);
    problems.push(...own);
    // Only a valid resource is read (an Appointment's participant may be anything until then).
    if (
      own.length === 0 &&
      isClinicalType(e.resource.resourceType) &&
      patientReferences(e.resource).length === 0 &&
      !patientIdentifier(e.resource)
    ) {
      const field = CLINICAL_TYPES[e.resource.resourceType]!.patient;
      problems.push({
        message: `a ${e.resource.resourceType} must name its patient (${field})`,
        expression: `${at}.${field}`,
      });
    }
    if (e.resource.resourceType === 'Patient' && (entryLocalId(e)?.length ?? 0) > MAX_PATIENT_NAME)
      problems.push({
        message: `the Patient has no id, and what names it instead (its first identifier, else its fullUrl) is over ${MAX_PATIENT_NAME} characters; send an id`,
        expression: `${at}.identifier`,
      });
    if (problems.length >= MAX_PROBLEMS) break;
  }
  if (problems.length > 0)
    throw new SharedcareError(
      'invalid-resource',
      'the request has invalid resources; nothing was stored',
      problems,
    );
}
