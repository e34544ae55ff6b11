/**
 * The soak's chart: latency p50/p99 by operation and the server's memory (RSS, heap used, the heap
 * as the last full collection left it) over
 * time, as a PNG. Vega-Lite describes it, Vega renders SVG headless (no canvas, no browser), and
 * resvg rasterises the SVG.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { Sample } from './sample.ts';

export async function renderChart(samples: Sample[], title: string): Promise<Buffer> {
  const latency = samples.flatMap((s) =>
    Object.entries(s.ops).flatMap(([op, o]) => [
      { t: s.t / 60, op, stat: 'p50', ms: Math.max(o.p50, 0.1) },
      { t: s.t / 60, op, stat: 'p99', ms: Math.max(o.p99, 0.1) },
    ]),
  );
  const memory = samples.flatMap((s) => [
    { t: s.t / 60, series: 'RSS', mib: s.rssMiB },
    { t: s.t / 60, series: 'heap used', mib: s.heapUsedMiB },
    ...(s.afterGc ? [{ t: s.t / 60, series: 'heap after full GC', mib: s.afterGc.heapUsedMiB }] : []),
  ]);
  const x = { field: 't', type: 'quantitative', title: 'minutes', scale: { domainMin: 0 } } as const;
  const spec: vl.TopLevelSpec = {
    title,
    resolve: { scale: { color: 'independent' } },
    vconcat: [
      {
        width: 760,
        height: 280,
        title: 'latency by operation (ms, log scale; solid p99, dashed p50)',
        data: { values: latency },
        mark: { type: 'line', point: false },
        encoding: {
          x,
          y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms' },
          color: { field: 'op', type: 'nominal', title: 'operation' },
          strokeDash: {
            field: 'stat',
            type: 'nominal',
            scale: {
              domain: ['p99', 'p50'],
              range: [
                [1, 0],
                [4, 3],
              ],
            },
            title: 'percentile',
          },
        },
      },
      {
        width: 760,
        height: 200,
        title: 'server memory (MiB)',
        data: { values: memory },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'mib', type: 'quantitative', title: 'MiB', scale: { zero: true } },
          color: { field: 'series', type: 'nominal', title: 'memory' },
        },
      },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 1.5 } }).render().asPng();
}
