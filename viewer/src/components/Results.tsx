/**
 * Test results, pathology and radiology: reports with their results on demand, results on their
 * own, and a trend chart for any test with repeated numeric values (the chart is a lazy chunk).
 */
import { lazy, Suspense, useId, useMemo, useState } from 'react';
import { applyFilters, type FilterState } from '../model/filters.ts';
import type { Group } from '../model/group.ts';
import { groupItems } from '../model/group.ts';
import type { Item } from '../model/item.ts';
import { trendSeries } from '../model/results.ts';
import { Filters } from './Filters.tsx';
import { GroupTable } from './GroupTable.tsx';
import { NothingShared } from './ItemSection.tsx';

const TrendChart = lazy(() => import('./TrendChart.tsx'));

interface Props {
  items: Item[];
  byId: Map<string, Item>;
  filters: FilterState;
  onFilters(f: FilterState): void;
}

export function Results({ items, byId, filters, onFilters }: Props) {
  const id = useId();
  const [trend, setTrend] = useState('');
  const shown = useMemo(() => applyFilters(items, filters), [items, filters]);
  const series = useMemo(() => trendSeries(shown), [shown]);
  const groups = useMemo(() => {
    // results that belong to a report are shown under it
    const inReport = new Set(shown.flatMap((i) => i.children ?? []));
    return groupItems(shown.filter((i) => !inReport.has(i.id)));
  }, [shown]);
  const options = useMemo(() => [...series.values()].sort((a, b) => b.count - a.count), [series]);
  const selected = series.get(trend);
  const childrenOf = (g: Group) =>
    (g.primary.children ?? []).map((c) => byId.get(c)).filter((i): i is Item => i !== undefined);
  const showTrend = (g: Group) => {
    setTrend(g.primary.key);
    requestAnimationFrame(() => document.getElementById(`${id}-trend`)?.focus());
  };

  return (
    <>
      <Filters
        items={items}
        value={filters}
        onChange={onFilters}
        shown={shown.length}
        total={items.length}
        noun="results"
      />
      {items.length === 0 ? (
        <p>
          <NothingShared />
        </p>
      ) : (
        <>
          <div className="sc-filters">
            <div>
              <label htmlFor={`${id}-trend`}>Trend for a repeated test</label>
              <select id={`${id}-trend`} value={trend} onChange={(e) => setTrend(e.target.value)}>
                <option value="">Choose a test ({options.length} with repeated values)</option>
                {options.map((s) => (
                  <option key={s.key} value={s.key}>
                    {s.title} ({s.count})
                  </option>
                ))}
              </select>
            </div>
          </div>
          {selected && (
            <Suspense fallback={<p role="status">Loading the chart…</p>}>
              <TrendChart series={selected} />
            </Suspense>
          )}
          <GroupTable
            groups={groups}
            caption="Test results"
            showKind
            childrenOf={childrenOf}
            extra={(g) =>
              series.has(g.primary.key) ? (
                <button type="button" className="sc-button sc-button--link" onClick={() => showTrend(g)}>
                  Trend
                </button>
              ) : null
            }
          />
        </>
      )}
    </>
  );
}
