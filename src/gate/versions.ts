/**
 * vread of a superseded version (GET /fhir/{type}/{id}/_history/{vid}). A past version is served
 * only when all of these hold:
 *
 * - the item is one the reader may see now (access, the person's objections, the reader's
 *   sections, and the item's current labels: an item withheld today is withheld in every version);
 * - the version, classified on its own content by the privacy policy (codes, security labels, its
 *   organisation, its words), reveals nothing never shared (an item whose source has since
 *   corrected a never-shared code to another still never serves the version that carried it);
 * - it was not itself a deletion (entered in error);
 * - every item it depended on or contained is one the reader may see (the `linked` rule, applied
 *   to that version's own links).
 *
 * References from it to items the reader may not see are removed, as from any served item.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { collectCodes, collectSecurityLabels, itemLinks } from '../fhir/index.ts';
import type { Classifier } from '../policy/index.ts';
import { readItemVersion, visibleAmong, type ItemRow } from '../store/index.ts';
import type { Granted } from './governed.ts';
import { withoutHiddenReferences } from './references.ts';

/** The past version as served, or undefined when there is none this reader may see. */
export async function pastVersion(
  tx: Queryable,
  g: Granted,
  current: ItemRow,
  version: number,
  classify: Classifier,
): Promise<string | undefined> {
  const past = await readItemVersion(tx, g.person.id, current.id, version);
  if (!past || past.deleted) return undefined;
  const resource = JSON.parse(past.body) as Resource;
  const labels = classify(
    collectCodes(resource),
    collectSecurityLabels(resource),
    past.sourceOrg ?? undefined,
    resource,
  );
  if (labels.length > 0) return undefined;
  const links = itemLinks(resource);
  const linked = [...new Set([...links.dependsOn, ...links.contains])];
  const visible = await visibleAmong(tx, g.person.id, g.policy.filter, linked);
  if (linked.some((id) => !visible.has(id))) return undefined;
  const row: ItemRow = {
    ...current,
    body: past.body,
    refs: links.refs.length > 0 ? `{${links.refs.join(',')}}` : null,
  };
  const [shown] = await withoutHiddenReferences(tx, g.person.id, g.policy.filter, [row]);
  return shown?.body;
}
