/**
 * Repeated numeric results as series for the trend chart: one series per test (and per component,
 * so a blood pressure gives systolic and diastolic), in time order, with the reference range.
 */
import type { Item } from './item.ts';

export interface Point {
  at: number;
  date: string;
  value: number;
  org: string;
  abnormal: boolean;
}

export interface Series {
  /** the test's concept key (a result row opens the chart for its test) */
  key: string;
  title: string;
  unit: string;
  lines: { name: string; points: Point[]; low?: number; high?: number }[];
  count: number;
  latest: Item;
}

export function trendSeries(items: Item[]): Map<string, Series> {
  const out = new Map<string, Series>();
  for (const item of items) {
    if (item.type !== 'Observation' || !item.numeric?.length || item.at === undefined) continue;
    const s = out.get(item.key) ?? {
      key: item.key,
      title: item.title,
      unit: item.numeric[0]!.unit,
      lines: [],
      count: 0,
      latest: item,
    };
    s.count++;
    if ((item.at ?? 0) > (s.latest.at ?? 0)) s.latest = item;
    for (const n of item.numeric) {
      let line = s.lines.find((l) => l.name === n.name);
      if (!line) {
        line = { name: n.name, points: [] };
        s.lines.push(line);
      }
      if (n.low !== undefined) line.low = n.low;
      if (n.high !== undefined) line.high = n.high;
      if (line.points.some((p) => p.at === item.at && p.value === n.value)) continue; // another source's copy
      const abnormal = (n.low !== undefined && n.value < n.low) || (n.high !== undefined && n.value > n.high);
      line.points.push({
        at: item.at,
        date: item.date ?? '',
        value: n.value,
        org: item.prov.orgName,
        abnormal,
      });
    }
    out.set(item.key, s);
  }
  for (const [k, s] of out) {
    for (const l of s.lines) l.points.sort((a, b) => a.at - b.at);
    // copies of one result from two sources count once
    s.count = Math.max(...s.lines.map((l) => l.points.length));
    if (s.count < 2) out.delete(k);
  }
  return out;
}
