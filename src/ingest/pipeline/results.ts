/**
 * What the sender is told about each entry: created, updated, unchanged, stale, deleted, linked,
 * or ignored with the reason; and the counts by action.
 */
import type { WriteResult } from '../../store/index.ts';
import type { Entry } from '../parse.ts';
import { KEPT_DIRECTORY_TYPES } from '../references.ts';
import type { EntryAction, EntryResult, IngestResult } from './types.ts';

export function describeWrite(e: Entry, resourceType: string, w: WriteResult): EntryResult {
  const base = { at: e.at, resourceType, id: w.id, action: w.action };
  if (w.action === 'not-found') return { ...base, note: 'nothing to delete' };
  if (w.action === 'stale')
    return { ...base, version: w.version, note: 'older than the version already held; ignored' };
  return { ...base, version: w.version };
}

/** Results not yet decided, before any stage has run. */
export function pendingResults(entries: Entry[]): EntryResult[] {
  return entries.map((e) => ({ at: e.at, action: 'ignored' as EntryAction }));
}

/** What the sender is told of an entry no stage took. */
function whyIgnored(e: Entry, type: string): string {
  if (e.method === 'DELETE' && type === 'Patient')
    return (
      'a Patient is not deleted by a feed: its items are (DELETE them, or send them entered-in-error); ' +
      'a record on the wrong person is split or merged by an administrator'
    );
  if (e.method === 'DELETE' && KEPT_DIRECTORY_TYPES.includes(type))
    return `a ${type} is not deleted by a feed: the items that name it keep what it said; send it again to change it`;
  return `${type} is not part of the shared care record`;
}

/** The final answer: anything no stage took is outside a shared care record. */
export function finishResults(entries: Entry[], results: EntryResult[]): IngestResult {
  const final = results.map((r, i): EntryResult => {
    if (r.action !== 'ignored' || r.note) return r;
    const e = entries[i]!;
    const type = e.resource?.resourceType ?? e.target?.type ?? 'entry';
    return { at: e.at, action: 'ignored', resourceType: type, note: whyIgnored(e, type) };
  });
  const counts: IngestResult['counts'] = {};
  for (const r of final) counts[r.action] = (counts[r.action] ?? 0) + 1;
  return { entries: final, counts };
}
