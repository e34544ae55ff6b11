/**
 * Medications, current and past: one line per medicine across sources and issues (see
 * model/medications.ts), with the dose, how many issues, first and last dates, and every source.
 */
import { useMemo } from 'react';
import { applyFilters, type FilterState } from '../model/filters.ts';
import { formatDate } from '../model/format.ts';
import type { Item } from '../model/item.ts';
import { medicationGroups, RECENT_ISSUE_DAYS, type MedicationGroup } from '../model/medications.ts';
import { CopyReference } from './CopyReference.tsx';
import { Filters } from './Filters.tsx';
import { usePaging, StatusTag } from './GroupTable.tsx';
import { NothingShared } from './ItemSection.tsx';
import { SourceTags } from './SourceTags.tsx';

function MedicationTable({ groups, caption }: { groups: MedicationGroup[]; caption: string }) {
  const { limit, more } = usePaging(groups.length);
  if (groups.length === 0) return <p className="sc-status-line">None.</p>;
  return (
    <>
      <table className="sc-table">
        <caption className="sc-visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Medicine and dose</th>
            <th scope="col">Last</th>
            <th scope="col">First</th>
            <th scope="col">Issues</th>
            <th scope="col">Status</th>
            <th scope="col">Source</th>
            <th scope="col">
              <span className="sc-visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.slice(0, limit).map((g) => (
            <tr key={g.key} className={g.conflict ? 'sc-row--conflict' : undefined} data-testid="item-row">
              <td>
                {g.primary.title}
                {g.dosage && <span className="sc-detail">{g.dosage}</span>}
                {g.conflict && (
                  <span className="sc-detail">
                    <strong className="sc-tag sc-tag--conflict">Conflict</strong> {g.conflict}
                  </span>
                )}
              </td>
              <td className="sc-date">{formatDate(g.primary.date)}</td>
              <td className="sc-date">{g.firstAt ? formatDate(new Date(g.firstAt).toISOString()) : ''}</td>
              <td>{g.issues || ''}</td>
              <td>
                <StatusTag status={g.status} />
              </td>
              <td>
                <SourceTags group={g} />
              </td>
              <td className="sc-actions">
                <CopyReference item={g.primary} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more}
    </>
  );
}

interface Props {
  items: Item[];
  filters: FilterState;
  onFilters(f: FilterState): void;
}

export function Medications({ items, filters, onFilters }: Props) {
  const shown = useMemo(() => applyFilters(items, filters), [items, filters]);
  const groups = useMemo(() => medicationGroups(shown), [shown]);
  const current = groups.filter((g) => g.current);
  const past = groups.filter((g) => !g.current);
  return (
    <>
      <Filters
        items={items}
        value={filters}
        onChange={onFilters}
        shown={shown.length}
        total={items.length}
        noun="records"
      />
      {items.length === 0 ? (
        <p>
          <NothingShared />
        </p>
      ) : (
        <>
          <h3>Current ({current.length})</h3>
          <p className="sc-status-line">
            Active in a source, or issued in the last {RECENT_ISSUE_DAYS} days. Check with the prescriber
            before acting on it.
          </p>
          <MedicationTable groups={current} caption="Current medications" />
          <h3>Past ({past.length})</h3>
          <MedicationTable groups={past} caption="Past medications" />
        </>
      )}
    </>
  );
}
