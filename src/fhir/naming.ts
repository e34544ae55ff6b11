/** Identifier systems and URLs Sharedcare writes into the resources it serves. */
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const PROVENANCE_EXTENSION = 'https://sharedcare.dev/fhir/StructureDefinition/provenance';
export const SOURCE_URI_PREFIX = 'urn:sharedcare:source:';
/**
 * On a reference kept as display text (or a medicationCodeableConcept), the directory entry it
 * names ("Practitioner/{id}", "Medication/{id}"): what `_include` returns and points the reference at.
 */
export const DIRECTORY_ENTRY_EXTENSION = 'https://sharedcare.dev/fhir/StructureDefinition/directory-entry';
