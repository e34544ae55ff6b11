/**
 * What the sender is told about each entry: created, updated, unchanged, stale, deleted, linked,
 * or ignored with the reason; and the counts by action.
 */
import type { WriteResult } from '../../store/index.ts';
import type { Entry } from '../parse.ts';
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

/** The final answer: anything no stage took is outside a shared care record. */
export function finishResults(entries: Entry[], results: EntryResult[]): IngestResult {
  const final = results.map((r, i): EntryResult => {
    if (r.action !== 'ignored' || r.note) return r;
    const e = entries[i]!;
    const type = e.resource?.resourceType ?? e.target?.type ?? 'entry';
    return {
      at: e.at,
      action: 'ignored',
      resourceType: type,
      note: `${type} is not part of the shared care record`,
    };
  });
  const counts: IngestResult['counts'] = {};
  for (const r of final) counts[r.action] = (counts[r.action] ?? 0) + 1;
  return { entries: final, counts };
}
