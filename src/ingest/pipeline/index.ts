export { ingestEntries, ingestWithin } from './run.ts';
export { appendIdentityEvents, type IdentityEvents } from './audit-identity.ts';
export type {
  EntryAction,
  EntryResult,
  IngestDeps,
  IngestOptions,
  IngestResult,
  RelationshipRecorder,
  ReleaseAttachments,
} from './types.ts';
