export { regionSpec, ODS_SYSTEM, SOURCE_IDS, BUNDLE_SOURCES } from './region-spec.ts';
export type { OrgKind, RegionOrganisation, RegionSource, RegionSpec } from './region-spec.ts';
export { generatePerson, getDefaultNow, DEFAULT_SEED } from './person.ts';
export type { PersonRecords } from './person.ts';
export { writeRegion } from './write-region.ts';
export type { GenerateSummary, WriteRegionOptions } from './write-region.ts';
export { makeLocalIdentifierSystem } from './identity.ts';
export { labelledRecords, writeIdentityNoise, NOISE_SOURCES, type LabelledRecord } from './identity-noise.ts';
