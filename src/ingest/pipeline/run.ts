/**
 * The one intake pipeline. Whatever the wire format (FHIR Bundle, NDJSON, HL7 v2 message, batch
 * file), a source's data arrives here as entries (the format's parser and mapper made them) and
 * passes through the same stages:
 *
 *   validate → link to a person → resolve references (directory entries found, a conditional
 *   create's aliases kept) → classify
 *   sensitivity → keep directory entries → store
 *   → relationship facts → audit of identity changes (with the link, in the same transaction)
 *
 * All or nothing: one call is one transaction (one FHIR request, one HL7 v2 message); any problem
 * stores nothing and names every place that is wrong. A new format adds a parser and a mapper
 * (see ../formats) and nothing here.
 */
import type { Database, Queryable } from '../../db/index.ts';
import { mapWithTurns } from '../../event-loop/index.ts';
import { markSourceReceived, type SourceSystem } from '../../region/index.ts';
import type { Entry } from '../parse.ts';
import { RequestIndex } from '../references.ts';
import { assignServerIds } from '../server-ids.ts';
import { auditIdentityChanges, identityEvents, type IdentityEvents } from './audit-identity.ts';
import { classifyItems, settleLabels } from './classify.ts';
import { followMoves } from '../relink.ts';
import { loadStoredDirectory, storeDirectory } from './directory.ts';
import { linkPersons, moveRelinkedItems } from './link-persons.ts';
import { recordItemFacts, recordPatientFacts } from './relationships.ts';
import { resolveItems, resolvePersons, resolveStoredIdentifiers } from './resolve-references.ts';
import { finishResults, pendingResults } from './results.ts';
import { recordSenderAliases } from './stored-names.ts';
import { lastPerItem, storeItems, touchedPersons } from './store.ts';
import { toItemWrite } from './stored-item.ts';
import { validateEntries } from './validate.ts';
import type { IngestDeps, IngestOptions, IngestResult, IntakeRun } from './types.ts';

/** One request or message in its own transaction (all or nothing), then the source's freshness. */
export async function ingestEntries(
  deps: IngestDeps,
  source: SourceSystem,
  sent: Entry[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  const entries = validated(deps, sent);
  const release = await deps.readAttachments?.(entries.map((e) => e.resource));
  let result: IngestResult;
  try {
    await deps.refreshLists?.(deps.db);
    result = await deps.db.transaction(async (tx) => {
      const r = await runStages(tx, deps, source, entries);
      await options.inTransaction?.(tx);
      return r;
    });
  } finally {
    release?.();
  }
  await markReceived(deps, source.id);
  return result;
}

/** How often a source's freshness (source_system.last_received_at) is written, at most. */
export const MARK_EVERY_MS = 1000;
const marked = new WeakMap<Database, Map<string, number>>();

/**
 * The source's freshness, outside the transaction (concurrent requests from one source would
 * otherwise queue on its row) and at most once a second per process: a GP system sending a record
 * a request at a time paid a statement and a WAL flush per request for a time the feed panel shows
 * to the minute. HL7 v2 does the same per batch (src/ingest/hl7v2/commit.ts).
 */
async function markReceived(deps: IngestDeps, sourceId: string): Promise<void> {
  const now = (deps.now ?? Date.now)();
  let bySource = marked.get(deps.db);
  if (!bySource) marked.set(deps.db, (bySource = new Map()));
  const last = bySource.get(sourceId);
  if (last !== undefined && now >= last && now - last < MARK_EVERY_MS) return;
  bySource.set(sourceId, now);
  await markSourceReceived(deps.db, sourceId);
}

/**
 * One message inside a transaction the caller holds (HL7 v2 commits several messages at once, each
 * behind its own savepoint): the caller refreshes the lists and reads the attachments first
 * (readAttachments, before its transaction: a PDF can take seconds) and marks the source afterwards.
 * `heldEvents`: the identity events are added to it instead of appended, and the caller appends
 * them (appendIdentityEvents) as its transaction's last statement, for the reason runStages gives.
 */
export async function ingestWithin(
  tx: Queryable,
  deps: IngestDeps,
  source: SourceSystem,
  sent: Entry[],
  heldEvents?: IdentityEvents,
): Promise<IngestResult> {
  return runStages(tx, deps, source, validated(deps, sent), heldEvents);
}

function validated(deps: IngestDeps, sent: Entry[]): Entry[] {
  validateEntries(sent, deps.validation ?? 'schema');
  return assignServerIds(sent);
}

async function runStages(
  tx: Queryable,
  deps: IngestDeps,
  source: SourceSystem,
  entries: Entry[],
  heldEvents?: IdentityEvents,
): Promise<IngestResult> {
  const rel = deps.relationships;
  const run: IntakeRun = {
    source,
    entries,
    index: new RequestIndex(entries),
    receivedAt: new Date().toISOString(),
    results: pendingResults(entries),
    personByLocal: new Map(),
  };
  const { links, patients } = await linkPersons(tx, deps.linker, run);
  await moveRelinkedItems(tx, run, links, deps);
  if (rel) await recordPatientFacts(tx, rel, source, links, patients);

  await resolvePersons(tx, deps.linker, run);
  await resolveStoredIdentifiers(tx, run);
  await recordSenderAliases(tx, run);
  await loadStoredDirectory(tx, run);
  // the per-item work of a large request gives the event loop turns (src/event-loop.ts)
  const drafts = await mapWithTurns(resolveItems(run), (r) => ({
    i: r.i,
    item: toItemWrite(source, r, run.receivedAt),
    sent: r.resource,
  }));
  await classifyItems(drafts, deps.classify);
  await storeDirectory(tx, run);

  const stored = await storeItems(tx, run, lastPerItem(run, drafts));
  await followMoves(tx, deps, stored.moves);
  if (rel) await recordItemFacts(tx, rel, source, stored);
  await settleLabels(
    tx,
    deps,
    stored.written.map((w) => ({
      id: w.item.id,
      personId: w.item.personId,
      // the labels it was stored with now; an unchanged or stale item keeps the ones it had
      sensitivity: w.action === 'unchanged' || w.action === 'stale' ? undefined : w.item.sensitivity,
    })),
    touchedPersons(stored),
    stored.labelled,
  );
  // Last: an append locks the head of one of the audit trail's chains until the transaction
  // commits, and a record open whose append falls on that chain waits for it. Appended first, a
  // large request held its chain for the whole of its work (hundreds of milliseconds). A caller
  // with more work in the same transaction (an HL7 v2 batch's next messages) holds them back.
  if (heldEvents) heldEvents.push(...identityEvents(source, links));
  else await auditIdentityChanges(tx, source, links);
  return finishResults(entries, run.results);
}
