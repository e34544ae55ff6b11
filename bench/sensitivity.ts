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
import { buildIngestDeps, hl7CodeMaps, policyFromConfig } from '../src/app.ts';
import type { Backend } from '../src/cli/backend.ts';
import { loadFiles } from '../src/cli/load.ts';
import { loadConfig } from '../src/config/index.ts';
import { migrate, openDatabase } from '../src/db/index.ts';
import { DEFAULT_SEED, getDefaultNow, regionSpec } from '../src/generate/index.ts';
import { authoriseSource, createHl7Intake, ingestFhir } from '../src/ingest/index.ts';
import { ensureLabelsCurrent, type Policy } from '../src/policy/index.ts';
import { applyRegion } from '../src/region/index.ts';
import { generateRegion } from './region.ts';
import { int, note, since, summarise } from './stats.ts';
import { HAVE_CHROMIUM, launchBrowser } from '../test/e2e/browser.ts';

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
// the hospital's HL7 v2 feed goes through the same classifier
const hl7 = createHl7Intake({ ingest: deps, codeMaps: hl7CodeMaps(config) });
const backend = {
  mode: 'direct',
  parallelism: 1,
  async ingest(sourceId: string, contentType: string, body: string) {
    const r = await ingestFhir(deps, await authoriseSource(db, sourceId, 'fhir'), contentType, body);
    return { counts: r.counts };
  },
  async ingestHl7(sourceId: string, message: string) {
    const outcome = await hl7.receive(message, await authoriseSource(db, sourceId, 'hl7v2'));
    return { code: outcome.code, ack: outcome.ack };
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
await benchPdfLetters();
await db.close();
region.remove();
rmSync(dir, { recursive: true, force: true });

/**
 * PDF letters: the text screen reads each through pdfjs in a worker thread. Letters printed by
 * Chromium (as real ones are printed by a word processor), each different so that no read is
 * answered from the cache, then the same letters again (relabelling, the review queue).
 */
async function benchPdfLetters(): Promise<void> {
  if (!HAVE_CHROMIUM) return note('PDF letters: skipped (no Chromium to print them)');
  const count = Number(process.env.BENCH_SENSITIVITY_PDFS ?? 100);
  const browser = await launchBrowser();
  const letters: unknown[] = [];
  try {
    const page = await browser.context.newPage();
    for (let i = 0; i < count; i++) {
      const body = Array.from(
        { length: 12 },
        (_, p) =>
          `<p>Paragraph ${p} of letter ${i}: seen in the renal clinic, eGFR ${40 + ((i + p) % 20)}, blood pressure ${120 + p}/${80 + (i % 9)}; review in ${1 + (i % 6)} months.</p>`,
      ).join('');
      await page.setContent(`<html><body><h1>Renal Clinic</h1>${body}</body></html>`);
      const pdf = await page.pdf({ format: 'A4' });
      letters.push({
        resourceType: 'DocumentReference',
        status: 'current',
        type: { text: 'Clinic letter' },
        content: [{ attachment: { contentType: 'application/pdf', data: pdf.toString('base64') } }],
      });
    }
  } finally {
    await browser.close();
  }
  const time = () =>
    letters.map((l) => {
      const t = performance.now();
      policy.classify([], [], 'RX1', l);
      return performance.now() - t;
    });
  const first = summarise(time());
  const again = summarise(time());
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  process.stdout.write(
    [
      `PDF letters (${count} one-page letters printed by Chromium, read with pdfjs-dist in a worker thread)`,
      `| measure | value |`,
      `| --- | --- |`,
      `| first read per letter, p50 / p99 / max | ${ms(first.p50)} / ${ms(first.p99)} / ${ms(first.max)} |`,
      `| read again (cached by digest), p50 / p99 | ${ms(again.p50)} / ${ms(again.p99)} |`,
      '',
    ].join('\n'),
  );
}
