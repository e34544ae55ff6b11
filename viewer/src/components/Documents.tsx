/** Letters, discharge summaries and reports: a list, and the chosen one readable in the page. */
import { useState } from 'react';
import type { Resource } from '@medplum/fhirtypes';
import type { FilterState } from '../model/filters.ts';
import type { Item } from '../model/item.ts';
import { DocumentReader } from './DocumentReader.tsx';
import { ItemSection } from './ItemSection.tsx';

interface Props {
  items: Item[];
  filters: FilterState;
  onFilters(f: FilterState): void;
  read(item: Item): Promise<Resource>;
}

export function Documents({ items, filters, onFilters, read }: Props) {
  const [reading, setReading] = useState<Item | undefined>();
  return (
    <ItemSection
      items={items}
      label="Letters and documents"
      filters={filters}
      onFilters={onFilters}
      showKind
      noun="documents"
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
    >
      {reading && <DocumentReader item={reading} read={read} onClose={() => setReading(undefined)} />}
    </ItemSection>
  );
}
