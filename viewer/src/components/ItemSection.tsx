/** A section as a filtered, grouped table (problems, allergies, referrals, social care, …). */
import { useMemo, type ReactNode } from 'react';
import type { Group } from '../model/group.ts';
import { applyFilters, type FilterState } from '../model/filters.ts';
import { groupItems } from '../model/group.ts';
import type { Item } from '../model/item.ts';
import { Filters } from './Filters.tsx';
import { GroupTable } from './GroupTable.tsx';

interface Props {
  items: Item[];
  label: string;
  filters: FilterState;
  onFilters(f: FilterState): void;
  /** mixed sections show each item's kind */
  showKind?: boolean;
  /** what the section lists, for "Showing 3 of 5 …" (default: entries) */
  noun?: string;
  /** extra cell content for a group (e.g. a "Read" button) */
  extra?: (g: Group) => ReactNode;
  /** shown between the filters and the table (e.g. the document being read) */
  children?: ReactNode;
}

export function ItemSection({
  items,
  label,
  filters,
  onFilters,
  showKind,
  noun = 'entries',
  extra,
  children,
}: Props) {
  const shown = useMemo(() => applyFilters(items, filters), [items, filters]);
  const groups = useMemo(() => groupItems(shown), [shown]);
  return (
    <>
      <Filters
        items={items}
        value={filters}
        onChange={onFilters}
        shown={shown.length}
        total={items.length}
        noun={noun}
      />
      {children}
      <GroupTable
        groups={groups}
        caption={label}
        showKind={showKind}
        extra={extra}
        empty={<p>{items.length ? `No ${noun} match these filters.` : <NothingShared />}</p>}
      />
    </>
  );
}

export function NothingShared() {
  return (
    <>
      Nothing is shared in this section. That does not mean there is nothing: see{' '}
      <a href="#sources">which organisations share what</a>.
    </>
  );
}
