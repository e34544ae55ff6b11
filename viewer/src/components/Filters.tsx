/** The filter bar of a section: source, date range, status, and a visible "Reset filters". */
import { useId } from 'react';
import { capitalise } from '../model/format.ts';
import { filterOptions, isFiltered, NO_FILTERS, type FilterState } from '../model/filters.ts';
import type { Item } from '../model/item.ts';

interface Props {
  items: Item[];
  value: FilterState;
  onChange(f: FilterState): void;
  shown: number;
  total: number;
  noun: string;
}

export function Filters({ items, value, onChange, shown, total, noun }: Props) {
  const id = useId();
  const { sources, statuses } = filterOptions(items);
  const set = (patch: Partial<FilterState>) => onChange({ ...value, ...patch });
  return (
    <form
      className="sc-filters"
      role="search"
      aria-label={`Filter ${noun}`}
      onSubmit={(e) => e.preventDefault()}
    >
      <div>
        <label htmlFor={`${id}-source`}>Source</label>
        <select id={`${id}-source`} value={value.source} onChange={(e) => set({ source: e.target.value })}>
          <option value="">All sources</option>
          {sources.map((s) => (
            <option key={s.ods} value={s.ods}>
              {s.name}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor={`${id}-from`}>From</label>
        <input
          id={`${id}-from`}
          type="date"
          value={value.from}
          onChange={(e) => set({ from: e.target.value })}
        />
      </div>
      <div>
        <label htmlFor={`${id}-to`}>To</label>
        <input id={`${id}-to`} type="date" value={value.to} onChange={(e) => set({ to: e.target.value })} />
      </div>
      {statuses.length > 0 && (
        <div>
          <label htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} value={value.status} onChange={(e) => set({ status: e.target.value })}>
            <option value="">Any status</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {capitalise(s)}
              </option>
            ))}
          </select>
        </div>
      )}
      <button type="button" className="sc-button" onClick={() => onChange(NO_FILTERS)}>
        Reset filters
      </button>
      <p className="sc-filters__count" role="status" aria-live="polite">
        {isFiltered(value)
          ? `Showing ${shown.toLocaleString('en-GB')} of ${total.toLocaleString('en-GB')} ${noun}`
          : `${total.toLocaleString('en-GB')} ${noun}`}
      </p>
    </form>
  );
}
