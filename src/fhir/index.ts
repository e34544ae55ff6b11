export { collectCodes, collectSecurityLabels } from './codes.ts';
export { errorToOperationOutcome, operationOutcome } from './operation-outcome.ts';
export {
  CLINICAL_TYPES,
  DIRECTORY_TYPES,
  effectiveDate,
  isClinicalType,
  isEnteredInError,
  patientReferences,
  statusOf,
  toInstant,
  type Section,
} from './resource-types.ts';
export { loadFhirDefinitions, validateFhirResource } from './validate.ts';
export { stableStringify, sha256Hex, deterministicUuid } from './hashing.ts';
export { ODS_SYSTEM, PROVENANCE_EXTENSION, SOURCE_URI_PREFIX } from './naming.ts';
