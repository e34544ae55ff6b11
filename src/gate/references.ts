/**
 * A shown item must not point at a withheld one: a report shown to a reader whose result is
 * withheld would otherwise carry that result's id (and any display its source wrote). References
 * from the rows being served to items this reader may not see are removed from the served copy.
 * Only references leaving the served set are checked, in one query, so a record whose items refer
 * to each other costs nothing extra.
 */
import type { Queryable } from '../db/index.ts';
import { parseStored, removeReferences, stringifyKeepingDecimals } from '../fhir/index.ts';
import { itemRefs, visibleAmong, type ItemRow, type PolicyFilter } from '../store/index.ts';

export async function withoutHiddenReferences(
  tx: Queryable,
  personId: string,
  filter: PolicyFilter,
  rows: ItemRow[],
): Promise<ItemRow[]> {
  const served = new Set(rows.map((r) => r.id));
  const outside = new Set<string>();
  const refsOf = new Map<ItemRow, string[]>();
  for (const r of rows) {
    if (!r.refs) continue;
    const refs = itemRefs(r);
    refsOf.set(r, refs);
    for (const id of refs) if (!served.has(id)) outside.add(id);
  }
  if (outside.size === 0) return rows;
  const visible = await visibleAmong(tx, personId, filter, [...outside]);
  const hidden = new Set([...outside].filter((id) => !visible.has(id)));
  if (hidden.size === 0) return rows;
  return rows.map((r) =>
    refsOf.get(r)?.some((id) => hidden.has(id))
      ? { ...r, body: stringifyKeepingDecimals(removeReferences(parseStored(r.body) as object, hidden)) }
      : r,
  );
}
