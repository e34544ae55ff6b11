export { ingestEntries, ingestWithin } from './run.ts';
export type {
  EntryAction,
  EntryResult,
  IngestDeps,
  IngestOptions,
  IngestResult,
  RelationshipRecorder,
} from './types.ts';
