/**
 * Stage: directory entries. The Practitioners and Medications a source sends with its items are
 * kept (src/store/directory.ts) so that `_include` can return them; the items refer to them by an
 * extension on the display text or the medication code (see ../references.ts). A reference to one
 * that an earlier request sent resolves to the stored entry: its display text, and a Medication's
 * code, which the item then carries and is classified by (an item prescribing an antiretroviral is
 * withheld whether the drug came in this request or an earlier one).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { collectCodes, collectSecurityLabels, isClinicalType } from '../../fhir/index.ts';
import { readDirectoryEntries, writeDirectoryEntries, type DirectoryWrite } from '../../store/index.ts';
import {
  entryLocalId,
  itemId,
  KEPT_DIRECTORY_TYPES,
  rewriteReferences,
  type LocalRef,
} from '../references.ts';
import { contentHash } from './content-hash.ts';
import { withProvenance } from './stored-item.ts';
import type { IntakeRun } from './types.ts';

function referencesIn(node: unknown, into: string[]): void {
  if (Array.isArray(node)) {
    for (const n of node) if (n !== null && typeof n === 'object') referencesIn(n, into);
    return;
  }
  const obj = node as Record<string, unknown>;
  if (typeof obj.reference === 'string') into.push(obj.reference);
  for (const k in obj) {
    const v = obj[k];
    if (k !== 'contained' && v !== null && typeof v === 'object') referencesIn(v, into);
  }
}

/** Stored entries for the kept directory types the items name but this request did not send. */
export async function loadStoredDirectory(tx: Queryable, run: IntakeRun): Promise<void> {
  const wanted = new Map<string, LocalRef>();
  for (const e of run.entries) {
    if (!e.resource || !isClinicalType(e.resource.resourceType)) continue;
    const refs: string[] = [];
    referencesIn(e.resource, refs);
    for (const r of refs) {
      const ref = run.index.resolve(r);
      if (!ref || !KEPT_DIRECTORY_TYPES.includes(ref.type) || run.index.resourceFor(ref)) continue;
      wanted.set(itemId(run.source.id, ref.type, ref.localId), ref);
    }
  }
  if (wanted.size === 0) return;
  for (const row of await readDirectoryEntries(tx, [...wanted.keys()], [...KEPT_DIRECTORY_TYPES]))
    run.index.addStored(wanted.get(row.id)!, JSON.parse(row.body) as Resource);
}

/** Keeps the request's Practitioners and Medications; each entry's result says so. */
export async function storeDirectory(tx: Queryable, run: IntakeRun): Promise<void> {
  const writes = new Map<string, DirectoryWrite>();
  run.entries.forEach((e, i) => {
    const type = e.resource?.resourceType;
    if (!e.resource || !type || !KEPT_DIRECTORY_TYPES.includes(type) || e.method === 'DELETE') return;
    const localId = entryLocalId(e);
    if (!localId) return;
    const id = itemId(run.source.id, type, localId);
    const resource = rewriteReferences(e.resource, {
      sourceId: run.source.id,
      index: run.index,
      personFor: (l) => run.personByLocal.get(l),
    });
    writes.set(id, {
      id,
      resourceType: type,
      sourceId: run.source.id,
      sourceOrg: run.source.org,
      sourceLocalId: localId,
      codes: collectCodes(resource),
      security: collectSecurityLabels(resource),
      contentHash: contentHash(resource),
      receivedAt: run.receivedAt,
      body: JSON.stringify(withProvenance(resource, id, run.source, localId, run.receivedAt)),
    });
    run.results[i] = {
      at: e.at,
      action: 'ignored',
      resourceType: type,
      id,
      note: `${type} is not an item of the shared care record: kept as a directory entry, served only with the items that refer to it (_include)`,
    };
  });
  await writeDirectoryEntries(tx, [...writes.values()]);
}
