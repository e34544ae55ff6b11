/** The filter bar of a section: source, date range, status, and a visible "Reset filters". */
import { useEffect, useId, useState } from 'react';
import { capitalise } from '../model/format.ts';
import {
  filterOptions,
  isFiltered,
  NO_FILTERS,
  parseUkDate,
  toUkDate,
  type FilterState,
} from '../model/filters.ts';
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
  // a reset clears what was typed too, even an entry that was never a date
  const [resets, setResets] = useState(0);
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
      <DateField
        key={`from-${resets}`}
        id={`${id}-from`}
        label="From"
        value={value.from}
        onChange={(from) => set({ from })}
      />
      <DateField
        key={`to-${resets}`}
        id={`${id}-to`}
        label="To"
        value={value.to}
        onChange={(to) => set({ to })}
      />
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
      <button
        type="button"
        className="sc-button"
        onClick={() => {
          setResets((n) => n + 1);
          onChange(NO_FILTERS);
        }}
      >
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

/**
 * A date typed as day/month/year, whatever the browser's locale (a date picker follows the
 * browser's locale: month first in a US one). Applied once it is a whole, real date; said plainly
 * when it is not.
 */
function DateField({
  id,
  label,
  value,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  onChange(iso: string): void;
}) {
  const [text, setText] = useState(toUkDate(value));
  // a reset (or any change from outside) shows the new value
  useEffect(() => setText((t) => (parseUkDate(t) === value ? t : toUkDate(value))), [value]);
  const parsed = parseUkDate(text);
  const wrong = parsed === undefined && /\d{4}$/.test(text.trim());
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        placeholder="dd/mm/yyyy"
        size={10}
        aria-describedby={`${id}-hint`}
        aria-invalid={wrong || undefined}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          const iso = parseUkDate(e.target.value);
          if (iso !== undefined && iso !== value) onChange(iso);
        }}
      />
      <span id={`${id}-hint`} className={wrong ? 'sc-filters__error' : 'sc-visually-hidden'}>
        {wrong ? 'Not a date: use day/month/year, e.g. 15/04/2022' : 'day/month/year, e.g. 15/04/2022'}
      </span>
    </div>
  );
}
