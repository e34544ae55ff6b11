/**
 * `npm run bench:sensitivity`: what classifying an item for the never-shared rule costs at intake
 * (issue 12): codes in every listed system, source labels, organisations, and the free-text screen
 * over the item's words and attached text. A `sharedcare generate` region goes in through the real
 * intake path (loadFiles → ingestFhir with the app's ingest deps, shipped lists and term list) into
 * an embedded PGlite database; the classifier and the review-queue step are timed inside intake.
 *
 * Reported: per resource, the classifier's p50 and p99 (microseconds); the review step per request;
 * and the share of intake time (classifier + review step ÷ the whole load's wall time). Aim: under
 * 10 % of intake. Options: BENCH_SENSITIVITY_PERSONS (default 60). Progress on stderr, the table on
 * stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildIngestDeps, policyFromConfig } from '../src/app.ts';
import type { Backend } from '../src/cli/backend.ts';
import { loadFiles } from '../src/cli/load.ts';
import { loadConfig } from '../src/config/index.ts';
import { migrate, openDatabase } from '../src/db/index.ts';
import { DEFAULT_SEED, getDefaultNow, regionSpec } from '../src/generate/index.ts';
import { authoriseSource, ingestFhir } from '../src/ingest/index.ts';
import { ensureLabelsCurrent, type Policy } from '../src/policy/index.ts';
import { applyRegion } from '../src/region/index.ts';
import { generateRegion } from './region.ts';
import { int, note, since, summarise } from './stats.ts';

const persons = Number(process.env.BENCH_SENSITIVITY_PERSONS ?? 60);
const config = loadConfig({}, { LOG_LEVEL: 'silent' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-bench-sensitivity-'));
note(`generating ${persons} persons`);
const region = await generateRegion(path.join(dir, 'region'), persons, DEFAULT_SEED, getDefaultNow(), false);
const db = await openDatabase({});
await migrate(db);
const spec = regionSpec();
await applyRegion(db, spec.organisations, spec.sources);

const policy = policyFromConfig(config);
await ensureLabelsCurrent(db, policy);
const classifyMs: number[] = [];
let settleMs = 0;
const timed: Policy = {
  ...policy,
  classify: (codes, security, org, resource) => {
    const t = performance.now();
    const labels = policy.classify(codes, security, org, resource);
    classifyMs.push(performance.now() - t);
    return labels;
  },
};
const deps = buildIngestDeps(db, config, timed);
const settle = deps.settleReviews!;
deps.settleReviews = async (tx, ids) => {
  const t = performance.now();
  await settle(tx, ids);
  settleMs += performance.now() - t;
};
const backend = {
  mode: 'direct',
  parallelism: 1,
  async ingest(sourceId: string, contentType: string, body: string) {
    const r = await ingestFhir(deps, await authoriseSource(db, sourceId, 'fhir'), contentType, body);
    return { counts: r.counts };
  },
} as unknown as Backend;

const started = performance.now();
let resources = 0;
for (const { id, dir: folder } of region.sources) {
  const s = await loadFiles(backend, id, [folder], { concurrency: 1 }).catch(
    (err: { summary?: { resources: number } }) => {
      if (!err.summary) throw err;
      return err.summary;
    },
  );
  resources += s.resources;
  note(`  ${id}: ${int(resources)} resources so far`);
}
const intakeMs = since(started);
const c = summarise(classifyMs);
const classifyTotal = classifyMs.reduce((a, b) => a + b, 0);
const { rows } = await db.query<{ n: number; r: number }>(
  `SELECT count(*) FILTER (WHERE cardinality(sensitivity) > 0)::int AS n,
     (SELECT count(*)::int FROM sensitivity_review) AS r FROM clinical_item`,
);
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
process.stdout.write(
  [
    `sensitivity classification at intake (${persons} persons, ${int(resources)} resources, ${int(c.samples)} clinical items classified, PGlite in memory)`,
    `| measure | value |`,
    `| --- | --- |`,
    `| classifier per item, p50 | ${us(c.p50)} |`,
    `| classifier per item, p99 | ${us(c.p99)} |`,
    `| classifier per item, mean / max | ${us(c.mean)} / ${us(c.max)} |`,
    `| classifier, total | ${int(classifyTotal)} ms |`,
    `| review-queue step, total | ${int(settleMs)} ms |`,
    `| intake wall time, total | ${int(intakeMs)} ms |`,
    `| share of intake | ${((100 * (classifyTotal + settleMs)) / intakeMs).toFixed(2)} % |`,
    `| items withheld / queued for review | ${int(rows[0]!.n)} / ${int(rows[0]!.r)} |`,
    '',
  ].join('\n'),
);
await db.close();
region.remove();
rmSync(dir, { recursive: true, force: true });
