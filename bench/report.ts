/**
 * The results as markdown: the machine, the options, an ingest table (real path against raw COPY)
 * and a record-open table (HTTP under load and alone, the gate in-process, and the bare SQL).
 */
import type { BenchOptions } from './options.ts';
import type { BareSqlRow, IngestCpu, IngestRow, Machine, OpenRow } from './results.ts';
import { bytes, int, ms, seconds } from './stats.ts';

export interface Report {
  started: Date;
  totalMs: number;
  command: string;
  machine: Machine;
  options: BenchOptions;
  ingest: IngestRow[];
  open: OpenRow[];
  sql: BareSqlRow[];
  notes: string[];
}

const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const header = (cells: string[]): string[] => [row(cells), row(cells.map(() => '---'))];
const pair = (a: number, b: number): string => `${ms(a)} / ${ms(b)}`;

/**
 * What bounds ingest on a machine of few cores: CPU per entry, Node and PostgreSQL together. Even
 * with every core busy, ingest cannot pass cores ÷ (the two), whatever the requests in flight.
 */
function cpuLine(c: IngestCpu, cores: number): string {
  const us = (v: number) => `${Math.round(v)} µs`;
  const ceiling = (cores * 1e6) / (c.nodeUs + c.pgUs);
  return (
    `CPU per ingested entry: this process ${us(c.nodeUs)} (${us(c.nodeSystemUs)} of it in the kernel), ` +
    `the database's backends ${us(c.pgUs)}; with all ${cores} cores busy, at most ${int(ceiling)} entries/s.` +
    (c.copyPgUs !== undefined ? ` The raw COPY took ${us(c.copyPgUs)} of its backend's CPU per row.` : '')
  );
}

export function renderReport(r: Report): string {
  const m = r.machine;
  const lines: string[] = [
    `## Sharedcare benchmark, ${r.started.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`${r.command}\` — total run time ${seconds(r.totalMs)}.`,
    '',
    `Machine: ${m.cores} cores (nproc), ${m.cpu}, ${m.memGiB} GiB RAM; Node ${m.node}; ` +
      `PostgreSQL ${m.postgres ?? 'not reachable'}; PGlite ${m.pglite}. ` +
      `1-minute load average during the run: mean ${m.load.mean.toFixed(1)}, max ${m.load.max.toFixed(1)}.`,
    '',
    r.options.data === 'synthea'
      ? `Options: Synthea-shaped data, ${int(r.options.persons)} persons + 1 heavy person, PostgreSQL only, HTTP runs of ${r.options.duration} s.`
      : `Options: ${int(r.options.persons)} persons ingested into PostgreSQL, ${int(r.options.pglitePersons)} into PGlite, ` +
        `grown in SQL to ${r.options.grow.length ? `${r.options.grow.map(int).join(' and ')} persons (${r.options.growBody} bodies)` : '(not grown)'}, ` +
        `${r.options.chunk} resources per ingest call, HTTP runs of ${r.options.duration} s.`,
    '',
    '### Ingest (resources/s)',
    '',
    ...header([
      'Database',
      'Persons',
      'Resources ingested',
      'Calls in flight',
      'clinical_item rows',
      'Ingest time',
      'Ingest resources/s',
      'Raw COPY rows/s',
      'Ingest ÷ COPY',
    ]),
    ...r.ingest.map((i) =>
      row([
        i.db,
        int(i.persons),
        int(i.run.resources) + (i.run.failedRequests ? ` (${i.run.failedRequests} calls failed)` : ''),
        String(i.run.concurrency),
        int(i.run.itemRows),
        seconds(i.run.ms),
        `**${int(i.run.perSecond)}**`,
        i.copy
          ? `${int(i.copy.perSecond)} (${int(i.copy.rows)} rows, ${bytes(i.copy.bytes)} in ${seconds(i.copy.ms)})`
          : '–',
        i.copy ? `${(i.run.perSecond / i.copy.perSecond).toFixed(2)}` : '–',
      ]),
    ),
    '',
    ...r.ingest.flatMap((i) => (i.cpu ? [cpuLine(i.cpu, r.machine.cores), ''] : [])),
    '### Record open: `GET /fhir/Patient/{id}/$everything` (ms)',
    '',
    ...header([
      'Database',
      'Region',
      'Person',
      'Items / Bundle',
      'HTTP 1 conn p50 / p99',
      'req/s',
      `HTTP ${r.options.connections} conn p50 / p99`,
      'req/s',
      'Gate in-process p50 / p99',
      'Bare SQL p50 / p99',
    ]),
    ...r.open.map((o) => {
      const [one, many] = [o.run.loads[0], o.run.loads[o.run.loads.length - 1]];
      const sql = r.sql.find((s) => s.db === o.db && s.region === o.region && s.person === o.person);
      const bad = o.run.loads.reduce((s, l) => s + l.non2xx + l.errors, 0);
      return row([
        o.db,
        o.region,
        o.person,
        `${int(o.run.items)} / ${bytes(o.run.bytes)}`,
        one ? pair(one.latency.p50, one.latency.p99) : '–',
        one ? int(one.perSecond) : '–',
        many ? `**${pair(many.latency.p50, many.latency.p99)}**` : '–',
        many ? int(many.perSecond) + (bad ? ` (${bad} failed)` : '') : '–',
        pair(o.run.gate.p50, o.run.gate.p99),
        sql ? `${pair(sql.run.latency.p50, sql.run.latency.p99)} (${int(sql.run.rows)} rows)` : '–',
      ]);
    }),
    '',
    ...r.notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}
