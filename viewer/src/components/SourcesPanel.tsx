/**
 * Sources: every contributing organisation, what it shares, since when it has been connected, and
 * how current its feed is (live, or the last batch), next to what this record holds from it. So a
 * clinician can tell "nothing recorded" from "not shared" or "not yet received".
 */
import { useMemo } from 'react';
import { formatDate, formatDateTime, plural } from '../model/format.ts';
import type { Item } from '../model/item.ts';
import type { Contributor, SourceFeed } from '../session.ts';

/** A live feed silent for a day, or a batch feed silent for a day and a half, may be behind. */
const STALE_MS = { live: 24 * 3600_000, batch: 36 * 3600_000 };

function feedText(f: SourceFeed, now: number): { text: string; stale: boolean } {
  if (!f.lastReceivedAt)
    return { text: `${f.mode === 'batch' ? 'Batch' : 'Live'} feed: nothing received yet`, stale: true };
  const stale = now - Date.parse(f.lastReceivedAt) > STALE_MS[f.mode];
  const when = formatDateTime(f.lastReceivedAt);
  return {
    text: f.mode === 'batch' ? `Batch: last batch received ${when}` : `Live: last update received ${when}`,
    stale,
  };
}

interface Props {
  sources: Contributor[] | undefined;
  items: Item[];
  /** organisations whose data the person objected to sharing (ODS codes, from the record's notices) */
  objected?: ReadonlySet<string>;
}

export function SourcesPanel({ sources, items, objected = new Set() }: Props) {
  const inRecord = useMemo(() => {
    const m = new Map<string, { n: number; first?: string; last?: string }>();
    for (const i of items) {
      const s = m.get(i.prov.ods) ?? { n: 0 };
      s.n++;
      if (i.date && (!s.first || i.date < s.first)) s.first = i.date;
      if (i.date && (!s.last || i.date > s.last)) s.last = i.date;
      m.set(i.prov.ods, s);
    }
    return m;
  }, [items]);
  if (!sources) return <p role="status">Loading the sources…</p>;
  if (sources.length === 0) return <p>The list of contributing organisations could not be loaded.</p>;
  const now = Date.now();
  return (
    <>
      <p>
        This record joins what these organisations share. An organisation that is not listed does not share,
        and what is listed is not their full record.
      </p>
      <table className="sc-table" data-testid="sources">
        <caption className="sc-visually-hidden">Contributing organisations</caption>
        <thead>
          <tr>
            <th scope="col">Organisation</th>
            <th scope="col">Shares</th>
            <th scope="col">Connected since</th>
            <th scope="col">How current</th>
            <th scope="col">In this record</th>
          </tr>
        </thead>
        <tbody>
          {sources.map((o) => {
            const here = inRecord.get(o.ods);
            return (
              <tr key={o.ods} data-ods={o.ods}>
                <td>
                  {o.name}
                  <span className="sc-detail">{o.ods}</span>
                </td>
                <td>
                  {o.dataSet.categories.length ? o.dataSet.categories.join('; ') : 'Not stated'}
                  <span className="sc-detail">
                    {o.dataSet.declared
                      ? o.dataSet.from && `from ${formatDate(o.dataSet.from)}`
                      : 'what this kind of organisation usually shares'}
                  </span>
                </td>
                <td>
                  {o.sources.map((s) => (
                    <span key={s.id} className="sc-date" style={{ display: 'block' }}>
                      {formatDate(s.connectedSince)}
                    </span>
                  ))}
                </td>
                <td>
                  {o.sources.length === 0 && 'No source system connected'}
                  {o.sources.map((s) => {
                    const f = feedText(s, now);
                    return (
                      <span key={s.id} style={{ display: 'block' }} data-feed={s.mode}>
                        {f.text}
                        {f.stale && <strong className="sc-tag sc-tag--conflict">May be out of date</strong>}
                        <span className="sc-detail">{s.name ?? s.id}</span>
                      </span>
                    );
                  })}
                </td>
                <td data-testid="in-record">
                  {objected.has(o.ods) ? (
                    <strong className="sc-tag sc-tag--conflict">
                      Not shown: the person objected to sharing this organisation’s data
                    </strong>
                  ) : here ? (
                    `${plural(here.n, 'item')}${here.first ? `, ${formatDate(here.first).slice(-4)}–${formatDate(here.last).slice(-4)}` : ''}`
                  ) : (
                    'Nothing'
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
