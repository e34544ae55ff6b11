/** The soak's results as markdown for BENCHMARKS.md: machine, load, verdict, and one row per sample. */
import os from 'node:os';
import type { SoakResult } from './run.ts';
import type { Sample } from './sample.ts';
import { WAIT_KINDS } from './waits.ts';

export interface ReportContext {
  command: string;
  postgres: string;
  loadBefore: number[];
  loadAfter: number[];
  chart: string;
}

const f = (n: number | undefined, d = 1) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));

/** The backends' mean waits of a window, in WAIT_KINDS order: `running 3.1 · Lock 0.0 · …`. */
export const waitsText = (w: NonNullable<Sample['waits']>): string =>
  WAIT_KINDS.map((k) => `${k} ${f(w[k])}`).join(' · ');

const machineText = (m: Sample['machine']): string =>
  m ? `${f(m.busy, 0)} · ${f(m.iowait, 0)} · ${f(m.steal, 0)}` : '–';

export function soakReport(r: SoakResult, c: ReportContext): string {
  const cpus = os.cpus();
  const ops = [...new Set(r.samples.flatMap((s) => Object.keys(s.ops)))].sort();
  const lines = [
    `Command: \`${c.command}\`; ${new Date().toISOString().slice(0, 16)} UTC; Node ${process.version}; PostgreSQL ${c.postgres}; ` +
      `${cpus.length} × ${cpus[0]?.model ?? 'CPU'}; load average (1/5/15 min) before ${c.loadBefore.map((n) => n.toFixed(2)).join(' / ')}, ` +
      `after ${c.loadAfter.map((n) => n.toFixed(2)).join(' / ')} (the soak's own load included)` +
      `${(c.loadBefore[0] ?? 0) > cpus.length / 2 ? '; other work was running before the soak started' : ''}.`,
    '',
    `Set-up: ${r.setup.persons} persons (${r.setup.resources} resources) loaded in ${r.setup.loadSeconds.toFixed(0)} s; ` +
      `${r.setup.targets} persons opened (${r.setup.heavyTargets} heavy). Load ran ${r.seconds.toFixed(0)} s; served: ` +
      Object.entries(r.totals)
        .map(([op, n]) => `${op} ${n}`)
        .join(', ') +
      '.',
    '',
    `**${r.verdict.line}**`,
    '',
    cpuLine(r),
    '',
    `![soak: latency and memory over time](${c.chart})`,
    '',
    `| t (s) | ${ops.map((op) => `${op} n · p50 · p99 (ms)`).join(' | ')} | errors | harness lag p99 (ms) | server loop held, max (ms) | RSS MiB | heap MiB | DB conns | audit opens / opens served | CPU s: server · database · harness | machine %: busy · I/O wait · steal | database backends waiting, mean: ${WAIT_KINDS.join(' · ')} |`,
    `| ---: | ${ops.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...r.samples.map(
      (s) =>
        `| ${s.t.toFixed(0)} | ${ops
          .map((op) => {
            const o = s.ops[op];
            return o ? `${o.served} · ${f(o.p50)} · ${f(o.p99)}` : '–';
          })
          .join(
            ' | ',
          )} | ${Object.values(s.errors).reduce((a, b) => a + b, 0)} | ${f(s.harnessLagP99, 0)} | ${f(s.serverLoopMaxMs, 0)} | ${f(s.rssMiB, 0)} | ${f(s.heapUsedMiB, 0)} | ${s.dbConnections} | ${s.auditOpens} / ${s.opensServed} | ${s.cpu ? `${f(s.cpu.server)} · ${f(s.cpu.database)} · ${f(s.cpu.harness)}` : '–'} | ${machineText(s.machine)} | ${s.waits ? WAIT_KINDS.map((k) => f(s.waits![k])).join(' · ') : '–'} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * CPU time of the whole load over the opens served: with opens alone in the mix, what one open
 * costs the server (all its threads) and the database, independent of how busy the machine was.
 */
export function cpuLine(r: SoakResult): string {
  const sum = (k: 'server' | 'database' | 'harness') =>
    r.samples.reduce((a, s) => a + (s.cpu && Number.isFinite(s.cpu[k]) ? s.cpu[k] : 0), 0);
  const opens = Object.entries(r.totals)
    .filter(([op]) => op.startsWith('open'))
    .reduce((a, [, n]) => a + n, 0);
  const per = (k: 'server' | 'database' | 'harness') => (opens ? ((sum(k) * 1000) / opens).toFixed(2) : '–');
  return (
    `CPU over the load: server ${f(sum('server'))} s, its database backends ${f(sum('database'))} s, harness ${f(sum('harness'))} s; ` +
    `per open served (all operations' CPU over ${opens} opens): server ${per('server')} ms, database ${per('database')} ms, harness ${per('harness')} ms.`
  );
}
