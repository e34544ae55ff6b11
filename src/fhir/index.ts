export { collectCodes, collectSecurityLabels } from './codes.ts';
export { itemLinks, LINK_RULES_VERSION, removeReferences, type ItemLinks } from './links.ts';
export { errorToOperationOutcome, operationOutcome } from './operation-outcome.ts';
export {
  CLINICAL_TYPES,
  DIRECTORY_TYPES,
  effectiveDate,
  isClinicalType,
  isEnteredInError,
  patientIdentifier,
  patientReferences,
  statusOf,
  toInstant,
  type Section,
} from './resource-types.ts';
export { loadFhirDefinitions, validateFhirResource, type ValidationMode } from './validate.ts';
export { loadSchemaValidators, VALIDATED_TYPES } from './schema-validator.ts';
export { stableStringify, sha256Hex, deterministicUuid, isUuid } from './hashing.ts';
export { DIRECTORY_ENTRY_EXTENSION, ODS_SYSTEM, PROVENANCE_EXTENSION, SOURCE_URI_PREFIX } from './naming.ts';
export { checkJsonText, checkQuery, checkRequestValues, MAX_JSON_DEPTH } from './guard.ts';
export { isR4ResourceType, R4_RESOURCE_TYPES } from './r4-resource-types.ts';
export * from './search/index.ts';
export {
  computeOffsetMinutes,
  formatOffset,
  localInstant,
  localOffsetMinutes,
  REGION_TIME_ZONE,
} from './local-time.ts';
export { keepSpelling, parseKeepingDecimals, parseStored, stringifyKeepingDecimals } from './decimals.ts';
