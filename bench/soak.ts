/**
 * `npm run soak -- --minutes 10`: the soak (bench/soak/run.ts) against one server on PostgreSQL,
 * with its verdict line and a PNG chart of latency and memory over time.
 * Options: --minutes 10 --opens 100 --heavy-opens 1 --searches 20 --intake 50 (resources/s)
 * --hl7 5 (messages/s) --dpo 1 (reports/min) --persons 300 --clinicians 1000 (per GP practice)
 * --workers 1 (server processes: one, so that the memory sampled is one process's) --out bench/out/soak.png
 * (BENCH_PG_URL picks the server; the database is the soak's own, created and dropped).
 * --own-postgres 'autovacuum=on,shared_buffers=1GB': a throwaway server of the soak's own with these
 * settings instead (bench/own-postgres.ts), removed at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { postgresReachable } from './databases.ts';
import { ownPostgresServer } from './own-postgres.ts';
import { renderChart } from './soak/chart.ts';
import { runSoak } from './soak/run.ts';
import { profiled } from './cpu-profile.ts';
import { cpuLine, soakReport } from './soak/report.ts';

const { values: o } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    opens: { type: 'string', default: '100' },
    'heavy-opens': { type: 'string', default: '1' },
    searches: { type: 'string', default: '20' },
    intake: { type: 'string', default: '50' },
    hl7: { type: 'string', default: '5' },
    dpo: { type: 'string', default: '1' },
    persons: { type: 'string', default: '300' },
    workers: { type: 'string', default: '1' },
    clinicians: { type: 'string', default: '1000' },
    out: { type: 'string', default: 'bench/out/soak.png' },
    'own-postgres': { type: 'string' },
  },
});
const num = (name: keyof typeof o): number => {
  const n = Number(o[name]);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a number of at least 0`);
    process.exit(2);
  }
  return n;
};

const own = o['own-postgres'] === undefined ? undefined : await ownPostgresServer(o['own-postgres']);
const adminUrl = own?.adminUrl ?? process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const version = await postgresReachable(adminUrl);
if (!version) {
  console.error(`the soak needs PostgreSQL at ${adminUrl} (set BENCH_PG_URL)`);
  process.exit(1);
}
const loadBefore = os.loadavg();
// SOAK_HARNESS_PROFILE=FILE: a CPU profile of this harness (set-up and load), since the harness
// shares the cores with the server it measures (the server's own: SOAK_NODE_ARGS="--cpu-prof …")
const harnessProfile = process.env.SOAK_HARNESS_PROFILE;
const soak = (opts: Parameters<typeof runSoak>[0]) =>
  harnessProfile ? profiled(harnessProfile, () => runSoak(opts)).then((r) => r.value) : runSoak(opts);
const result = await soak({
  minutes: num('minutes'),
  persons: num('persons'),
  adminUrl,
  workers: num('workers'),
  clinicians: num('clinicians'),
  rates: {
    opens: num('opens'),
    heavyOpens: num('heavy-opens'),
    searches: num('searches'),
    intake: num('intake'),
    hl7: num('hl7'),
    dpoPerMinute: num('dpo'),
  },
});
const out = path.resolve(o.out!);
mkdirSync(path.dirname(out), { recursive: true });
const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
writeFileSync(out, await renderChart(result.samples, `Sharedcare soak, ${stamp} UTC, PostgreSQL ${version}`));
const report = soakReport(result, {
  command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
  postgres: own ? `${version}, a server of the soak's own (${o['own-postgres']})` : version,
  loadBefore,
  loadAfter: os.loadavg(),
  chart: path.relative(process.cwd(), out),
});
writeFileSync(out.replace(/\.png$/, '.md'), report);
process.stdout.write(`${report}\n${cpuLine(result)}\n${result.verdict.line}\n`);
process.exitCode = result.verdict.pass ? 0 : 1;
await own?.stop();
