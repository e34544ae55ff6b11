export type { IntakeFormat } from './format.ts';
export { FHIR_JSON, FHIR_NDJSON, fhirFormat } from './fhir.ts';
