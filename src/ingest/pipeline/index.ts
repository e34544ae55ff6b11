export { ingestEntries } from './run.ts';
export type {
  EntryAction,
  EntryResult,
  IngestDeps,
  IngestOptions,
  IngestResult,
  RelationshipRecorder,
} from './types.ts';
