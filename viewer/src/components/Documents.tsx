/** Letters, discharge summaries and reports: a list, and the chosen one readable in the page. */
import { useMemo, useState } from 'react';
import type { Resource } from '@medplum/fhirtypes';
import { applyFilters, type FilterState } from '../model/filters.ts';
import { groupItems } from '../model/group.ts';
import type { Item } from '../model/item.ts';
import { DocumentReader } from './DocumentReader.tsx';
import { Filters } from './Filters.tsx';
import { GroupTable } from './GroupTable.tsx';
import { NothingShared } from './ItemSection.tsx';

interface Props {
  items: Item[];
  filters: FilterState;
  onFilters(f: FilterState): void;
  read(item: Item): Promise<Resource>;
}

export function Documents({ items, filters, onFilters, read }: Props) {
  const [reading, setReading] = useState<Item | undefined>();
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
        noun="documents"
      />
      {reading && <DocumentReader item={reading} read={read} onClose={() => setReading(undefined)} />}
      <GroupTable
        groups={groups}
        caption="Letters and documents"
        showKind
        empty={<p>{items.length ? 'No documents match these filters.' : <NothingShared />}</p>}
        extra={(g) => (
          <button
            type="button"
            className="sc-button sc-button--link"
            aria-label={`Read: ${g.primary.title}`}
            onClick={() => {
              setReading(g.primary);
              requestAnimationFrame(() => document.getElementById('document-reader')?.focus());
            }}
          >
            Read
          </button>
        )}
      />
    </>
  );
}
