/**
 * What the intake pipeline needs from the rest of Sharedcare (identity, policy, access), and what
 * it answers. The stages share one `IntakeRun`: the entries of one request (FHIR) or one message
 * (HL7 v2) and what each stage has learnt about them so far.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../db/index.ts';
import type { ValidationMode } from '../../fhir/index.ts';
import type { PersonLinker } from '../../identity/index.ts';
import type { SourceSystem } from '../../region/index.ts';
import type { ItemMove } from '../../store/index.ts';
import type { Entry } from '../parse.ts';
import type { LocalRef } from '../references.ts';
import type { RequestIndex } from '../references.ts';

export interface IngestDeps {
  db: Database;
  linker: PersonLinker;
  classify: (codes: string[], security: string[], sourceOrg?: string, resource?: unknown) => string[];
  /**
   * before the transaction: read the request's attached PDFs without blocking the event loop, so
   * that classify finds their words already read (policy)
   */
  readAttachments?: (resources: unknown[]) => Promise<ReleaseAttachments | void>;
  /** before classifying: put in force lists another process imported (policy) */
  refreshLists?: (q: Queryable) => Promise<void>;
  /**
   * after the items are written: queue what the text screen flagged, apply review decisions (policy);
   * `sensitivity` is what an item was just stored with (absent: not written now, labels unknown)
   */
  settleReviews?: (
    tx: Queryable,
    items: { id: string; personId: string; sensitivity?: string[] }[],
  ) => Promise<unknown>;
  /** the review queue's entries follow items that moved to another person (owned by the policy) */
  moveReviews?: (tx: Queryable, moves: ItemMove[]) => Promise<unknown>;
  /** 'schema' (default) or 'full' (adds StructureDefinition and invariant checks) */
  validation?: ValidationMode;
  /** legitimate relationships derived from what arrives (owned by the access module) */
  relationships?: RelationshipRecorder;
  /** milliseconds since the epoch, for how often a source's freshness is written (tests inject one) */
  now?: () => number;
}

/** How intake tells the access module which organisations care for whom. */
export interface RelationshipRecorder {
  facts(resource: Resource, sourceOrg: string, sourceOrgKind: string | null): unknown[];
  record(
    tx: Queryable,
    items: { itemId: string; personId: string; facts: unknown[]; created?: boolean }[],
  ): Promise<void>;
  /** the facts of items that moved to another person follow them */
  reassign(tx: Queryable, moves: ItemMove[]): Promise<void>;
}

export type EntryAction =
  'created' | 'updated' | 'unchanged' | 'stale' | 'deleted' | 'not-found' | 'linked' | 'ignored';

export interface EntryResult {
  at: string;
  action: EntryAction;
  resourceType?: string;
  /** Sharedcare's id (Patient: the person) */
  id?: string;
  version?: number;
  note?: string;
}

export interface IngestResult {
  entries: EntryResult[];
  counts: Partial<Record<EntryAction, number>>;
}

export interface IngestOptions {
  /** runs last inside the request's transaction: what must commit with the data or not at all */
  inTransaction?: (tx: Queryable) => Promise<void>;
}

/** One request's (or one message's) passage through the stages. */
export interface IntakeRun {
  source: SourceSystem;
  /** validated, each with a local id */
  entries: Entry[];
  index: RequestIndex;
  receivedAt: string;
  /** one per entry, in order; every stage fills in those it decides */
  results: EntryResult[];
  /** the person each source-local patient id is linked to */
  personByLocal: Map<string, string>;
  /**
   * Items earlier requests stored that this request names by identifier only, by
   * `person|type|system|value` (and `person||system|value` without a type; undefined where two
   * types carry it): filled by resolveStoredIdentifiers.
   */
  storedByIdentifier?: Map<string, LocalRef | undefined>;
}

/** Lets go of the attachments' answers read ahead, once the transaction that used them is over. */
export type ReleaseAttachments = () => void;
