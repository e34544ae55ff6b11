/**
 * Encounters, admissions and appointments on a timeline: upcoming first, then by year, newest
 * first; each with its kind (admission, A&E, outpatient, home visit, telephone…), where and when.
 */
import { Fragment, useId, useMemo, useState } from 'react';
import { applyFilters, isFiltered, type FilterState } from '../model/filters.ts';
import { formatDateTime } from '../model/format.ts';
import { groupItems, type Group } from '../model/group.ts';
import type { Item } from '../model/item.ts';
import { CopyReference } from './CopyReference.tsx';
import { Filters } from './Filters.tsx';
import { StatusTag, usePaging } from './GroupTable.tsx';
import { NothingShared } from './ItemSection.tsx';
import { SourceTags } from './SourceTags.tsx';

interface Props {
  items: Item[];
  filters: FilterState;
  onFilters(f: FilterState): void;
}

function Entry({ g }: { g: Group }) {
  const i = g.primary;
  return (
    <tr data-testid="item-row" className={g.conflict ? 'sc-row--conflict' : undefined}>
      <td className="sc-date">{formatDateTime(i.date)}</td>
      <td>
        <span className="sc-tag">{i.kind}</span>
      </td>
      <td>
        {i.title}
        {i.detail && <span className="sc-detail">{i.detail}</span>}
      </td>
      <td>
        <StatusTag status={i.status} />
      </td>
      <td>
        <SourceTags group={g} />
      </td>
      <td className="sc-actions">
        <CopyReference item={i} />
      </td>
    </tr>
  );
}

export function Timeline({ items, filters, onFilters }: Props) {
  const id = useId();
  const [kind, setKind] = useState('');
  const kinds = useMemo(() => [...new Set(items.map((i) => i.kind ?? ''))].filter(Boolean).sort(), [items]);
  const shown = useMemo(
    () => applyFilters(items, filters).filter((i) => !kind || i.kind === kind),
    [items, filters, kind],
  );
  const now = Date.now();
  const groups = useMemo(() => groupItems(shown), [shown]);
  const upcoming = groups.filter((g) => (g.at ?? 0) > now).reverse();
  const past = groups.filter((g) => (g.at ?? 0) <= now);
  const { limit, more } = usePaging(past.length);
  const years = new Map<string, Group[]>();
  for (const g of past.slice(0, limit)) {
    const y = g.primary.date?.slice(0, 4) ?? 'Undated';
    years.set(y, [...(years.get(y) ?? []), g]);
  }
  const head = (
    <thead className="sc-visually-hidden">
      <tr>
        <th scope="col">When</th>
        <th scope="col">Kind</th>
        <th scope="col">What</th>
        <th scope="col">Status</th>
        <th scope="col">Source</th>
        <th scope="col">Actions</th>
      </tr>
    </thead>
  );
  return (
    <>
      <Filters
        items={items}
        value={filters}
        onChange={(f) => {
          onFilters(f);
          if (!isFiltered(f)) setKind('');
        }}
        shown={shown.length}
        total={items.length}
        noun="entries"
      />
      <div className="sc-filters">
        <div>
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">All kinds</option>
            {kinds.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </div>
      </div>
      {items.length === 0 && (
        <p>
          <NothingShared />
        </p>
      )}
      {upcoming.length > 0 && (
        <>
          <h3 className="sc-timeline__year">Upcoming</h3>
          <table className="sc-table">
            {head}
            <tbody>
              {upcoming.map((g) => (
                <Entry key={g.key} g={g} />
              ))}
            </tbody>
          </table>
        </>
      )}
      {[...years].map(([year, list]) => (
        <Fragment key={year}>
          <h3 className="sc-timeline__year">{year}</h3>
          <table className="sc-table">
            {head}
            <tbody>
              {list.map((g) => (
                <Entry key={g.key} g={g} />
              ))}
            </tbody>
          </table>
        </Fragment>
      ))}
      {more}
    </>
  );
}
