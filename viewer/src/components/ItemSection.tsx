/** A section as a filtered, grouped table (problems, allergies, referrals, social care, …). */
import { useMemo } from 'react';
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
}

export function ItemSection({ items, label, filters, onFilters, showKind }: Props) {
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
        noun="entries"
      />
      <GroupTable
        groups={groups}
        caption={label}
        showKind={showKind}
        empty={<p>{items.length ? 'No entries match these filters.' : <NothingShared />}</p>}
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
