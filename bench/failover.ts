/**
 * `npm run bench:failover [-- --failovers 10 --concurrency 2]`: the failover drill of
 * test/failover-drill.ts, ten times by default: a primary and a synchronous standby of its own
 * (Debian's PostgreSQL 15 binaries, as the postgres user, on free ports, removed afterwards),
 * `sharedcare serve` on both hosts, intake and record opens running, the primary killed with
 * kill -9, the standby promoted, the old primary rebuilt as the standby. Prints acknowledged writes
 * lost (the aim: 0) and the times from the kill, as a Markdown table for BENCHMARKS.md.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runFailoverDrill } from '../test/failover-drill.ts';
import { clustersUnavailable } from '../test/pg-cluster.ts';
import { summarise } from './stats.ts';

const { values: o } = parseArgs({
  options: {
    failovers: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '2' },
  },
});
const why = clustersUnavailable();
if (why) {
  console.error(`bench:failover cannot run here: ${why}`);
  process.exit(1);
}
const loadBefore = os.loadavg()[0]!;
const r = await runFailoverDrill({
  failovers: Number(o.failovers),
  concurrency: Number(o.concurrency),
  report: (line) => console.error(line),
});
const lost = r.ingestsLost.length + r.openAuditsLost.length + r.messagesLost.length;
const row = (name: string, values: number[]) => {
  const s = summarise(values);
  return `| ${name} | ${Math.round(s.p50)} | ${Math.round(s.max)} |`;
};
console.log(
  [
    `Failovers: ${r.cycles.length}; load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after (${os.cpus().length} cores)`,
    `Acknowledged: ${r.ingestsAcknowledged} FHIR ingests, ${r.opensAcknowledged} record opens (audit events), ${r.messagesAcknowledged} HL7 v2 messages over MLLP; acknowledged writes lost: ${lost}`,
    `Other answers: ${JSON.stringify(r.refusals)}; unclean (not 200 nor 503 OperationOutcome): ${r.unclean.length}; server survived: ${r.serverSurvived}; log lines naming the patient: ${r.leakedLines.length}`,
    '',
    '| from the kill to (ms) | median | worst |',
    '| --- | ---: | ---: |',
    row(
      '/ready answers 503',
      r.cycles.map((c) => c.killToNotReady),
    ),
    row(
      'standby promoted',
      r.cycles.map((c) => c.killToPromoted),
    ),
    row(
      'first record open served',
      r.cycles.map((c) => c.killToFirstRead),
    ),
    row(
      '/ready answers 200 (new standby attached)',
      r.cycles.map((c) => c.killToReady),
    ),
  ].join('\n'),
);
process.exit(lost === 0 && r.unclean.length === 0 && r.serverSurvived ? 0 : 1);
