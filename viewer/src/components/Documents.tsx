/**
 * Letters, discharge summaries and reports: a list, and the chosen one readable in the page. Also
 * the sections by origin (social care, mental health, out of hours and 111), where the letters and
 * reports sit among other entries and are read the same way.
 */
import { useState } from 'react';
import type { Resource } from '@medplum/fhirtypes';
import type { FilterState } from '../model/filters.ts';
import type { Item } from '../model/item.ts';
import { DocumentReader, type Opening } from './DocumentReader.tsx';
import { ItemSection } from './ItemSection.tsx';

/** The types a clinician reads as a document (the documents section's types). */
const DOCUMENT_TYPES = new Set(['DocumentReference', 'Composition', 'QuestionnaireResponse']);

interface Props {
  items: Item[];
  label?: string;
  noun?: string;
  filters: FilterState;
  onFilters(f: FilterState): void;
  read(item: Item): Promise<Resource>;
}

export function Documents({
  items,
  label = 'Letters and documents',
  noun = 'documents',
  filters,
  onFilters,
  read,
}: Props) {
  const [reading, setReading] = useState<Opening | undefined>();
  return (
    <ItemSection
      items={items}
      label={label}
      filters={filters}
      onFilters={onFilters}
      showKind
      noun={noun}
      extra={(g) =>
        DOCUMENT_TYPES.has(g.primary.type) && (
          <button
            type="button"
            className="sc-button sc-button--link"
            aria-label={`Read: ${g.primary.title}`}
            onClick={() => {
              // the one read (and audited view) of this click; see DocumentReader
              const resource = read(g.primary);
              resource.catch(() => undefined); // the reader shows the failure
              setReading({ item: g.primary, resource });
              requestAnimationFrame(() => document.getElementById('document-reader')?.focus());
            }}
          >
            Read
          </button>
        )
      }
    >
      {reading && <DocumentReader opening={reading} onClose={() => setReading(undefined)} />}
    </ItemSection>
  );
}
