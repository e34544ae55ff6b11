/**
 * A trend chart for one repeated numeric test (Recharts), with the reference range shaded and, for
 * screen readers and exact reading, the values as a table.
 */
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceArea,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatDate } from '../model/format.ts';
import type { Series } from '../model/results.ts';

const COLOURS = ['#005eb8', '#d5281b', '#007f3b', '#330072'];
const day = (t: number) => formatDate(new Date(t).toISOString());

export default function TrendChart({ series }: { series: Series }) {
  // one row per time, one column per line (systolic, diastolic…)
  const rows = new Map<number, Record<string, number>>();
  for (const line of series.lines)
    for (const p of line.points)
      rows.set(p.at, { ...(rows.get(p.at) ?? { at: p.at }), [line.name]: p.value });
  const data = [...rows.values()].sort((a, b) => a.at! - b.at!);
  const range = series.lines.length === 1 ? series.lines[0] : undefined;
  // the reference range stays in view, so a result is seen against it
  const values = series.lines.flatMap((l) => [...l.points.map((p) => p.value), l.low, l.high]);
  const known = values.filter((v): v is number => v !== undefined);
  const pad = (Math.max(...known) - Math.min(...known)) * 0.1 || 1;
  const yDomain = [Math.floor(Math.min(...known) - pad), Math.ceil(Math.max(...known) + pad)];
  return (
    <figure className="sc-chart" data-testid="trend-chart" aria-labelledby="trend-title">
      <figcaption id="trend-title">
        <strong>{series.title}</strong> ({series.unit}), {series.count} results
        {range?.low !== undefined &&
          range.high !== undefined &&
          `; reference range ${range.low}–${range.high}`}
      </figcaption>
      <div style={{ width: '100%', height: 260 }}>
        <ResponsiveContainer>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid stroke="#d8dde0" />
            <XAxis
              dataKey="at"
              type="number"
              scale="time"
              domain={['dataMin', 'dataMax']}
              tickFormatter={day}
            />
            <YAxis domain={yDomain} width={48} allowDecimals />
            {range?.low !== undefined && range.high !== undefined && (
              <ReferenceArea y1={range.low} y2={range.high} fill="#cce5d8" fillOpacity={0.5} />
            )}
            <Tooltip labelFormatter={(t) => day(Number(t))} />
            {series.lines.length > 1 && <Legend />}
            {series.lines.map((l, i) => (
              <Line
                key={l.name}
                dataKey={l.name}
                stroke={COLOURS[i % COLOURS.length]}
                isAnimationActive={false}
                connectNulls
                dot={{ r: 3 }}
                activeDot={{ r: 5 }}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <details>
        <summary>Values as a table</summary>
        <table className="sc-table">
          <thead>
            <tr>
              <th scope="col">Date</th>
              {series.lines.map((l) => (
                <th scope="col" key={l.name}>
                  {l.name}
                </th>
              ))}
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {series.lines[0]!.points.slice()
              .reverse()
              .map((p) => (
                <tr key={p.at}>
                  <td>{formatDate(p.date)}</td>
                  {series.lines.map((l) => {
                    const q = l.points.find((x) => x.at === p.at);
                    return (
                      <td key={l.name} className={q?.abnormal ? 'sc-abnormal' : undefined}>
                        {q?.value ?? ''}
                      </td>
                    );
                  })}
                  <td>{p.org}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
