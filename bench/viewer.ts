/**
 * `npm run bench:viewer`: the viewer's time to first useful screen, in Debian's Chromium on
 * localhost, for the benchmark's typical person (~300 items) and heavy person (~3,000 items) of a
 * synthetic region (bench/viewer-region.ts), opened by a clinician at their GP practice.
 *
 * One run is what a clinician's click does: the clinical system registers the launch (POST
 * /launch), the browser opens the viewer's launch URL, the SMART flow runs (discovery, authorize,
 * token), the viewer reads $everything through the gate; the clock stops when the patient banner
 * and the summary are both visible. Measured from outside the browser (wall clock, launch
 * registration included) and inside it (from the /viewer/ page's navigation start).
 * Cold: a new browser with a fresh profile per run (nothing cached). Warm: one browser, a new tab
 * per run (the viewer's scripts cached, as for a clinician who used it before).
 * Options (environment): BENCH_VIEWER_RUNS (default 7), BENCH_VIEWER_PERSONS (default 60).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { BrowserContext } from 'playwright-core';
import {
  ensureViewerBuilt,
  HAVE_CHROMIUM,
  launchBrowser,
  NO_CHROMIUM_MESSAGE,
  CHROMIUM,
} from '../test/e2e/browser.ts';
import { bytes, int, ms, note, summarise, type LatencySummary } from './stats.ts';
import { startSyntheticRegion, type SyntheticRegion } from './viewer-region.ts';
import type { ChosenPerson } from './region.ts';

const RUNS = Number(process.env.BENCH_VIEWER_RUNS ?? 7);
const PERSONS = Number(process.env.BENCH_VIEWER_PERSONS ?? 60);

interface Sample {
  /** click to useful screen, wall clock (launch registration included) */
  total: number;
  /** click to the /viewer/ page's navigation start: launch registration, launch page, SMART redirects */
  launch: number;
  /** /viewer/ navigation start to useful screen, in the browser */
  page: number;
  /** the $everything request, in the browser */
  everything: number;
  /** the viewer's own marks (ms from the /viewer/ navigation start): session, fetched, parsed, summary */
  session: number;
  fetched: number;
  parsed: number;
  summary: number;
}

async function openOnce(context: BrowserContext, region: SyntheticRegion, p: ChosenPerson): Promise<Sample> {
  const page = await context.newPage();
  const t0 = performance.now();
  const epoch0 = Date.now();
  const url = await region.launchUrl(p.nhsNumber, { user: 'bench.clinician', org: p.gpOrg });
  await page.goto(url, { waitUntil: 'commit' });
  await page.getByTestId('banner').waitFor({ state: 'visible' });
  await page.getByTestId('summary').waitFor({ state: 'visible' });
  const total = performance.now() - t0;
  const inPage = (await page.evaluate(() => ({
    origin: performance.timeOrigin,
    page: performance.now(),
    everything:
      performance.getEntriesByType('resource').find((e) => e.name.includes('$everything'))?.duration ?? NaN,
    ...Object.fromEntries(
      ['session', 'fetched', 'parsed', 'summary'].map((m) => [
        m,
        performance.getEntriesByName(`sc-${m}`)[0]?.startTime ?? NaN,
      ]),
    ),
  }))) as Omit<Sample, 'total' | 'launch'> & { origin: number };
  await page.close();
  const { origin, ...rest } = inPage;
  return { total, launch: origin - epoch0, ...rest };
}

interface Row {
  person: ChosenPerson;
  items: number;
  bundle: number;
  cold: Record<keyof Sample, LatencySummary>;
  warm: Record<keyof Sample, LatencySummary>;
}

const KEYS = ['total', 'launch', 'page', 'everything', 'session', 'fetched', 'parsed', 'summary'] as const;

const sum = (samples: Sample[]) =>
  Object.fromEntries(KEYS.map((k) => [k, summarise(samples.map((s) => s[k]))])) as Row['cold'];

async function measure(region: SyntheticRegion, person: ChosenPerson): Promise<Row> {
  const cold: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const browser = await launchBrowser();
    try {
      cold.push(await openOnce(browser.context, region, person));
    } finally {
      await browser.close();
    }
  }
  const browser = await launchBrowser();
  const warm: Sample[] = [];
  let items = 0;
  let bundle = 0;
  try {
    await openOnce(browser.context, region, person); // warm the cache
    for (let i = 0; i < RUNS; i++) warm.push(await openOnce(browser.context, region, person));
    // the record's size, as the gate serves it to this clinician
    const page = await browser.context.newPage();
    page.on('response', (r) => {
      if (r.url().includes('$everything'))
        void r.body().then((b) => {
          bundle = b.length;
          items = ((JSON.parse(b.toString()) as { entry?: unknown[] }).entry?.length ?? 2) - 2;
        });
    });
    await page.goto(await region.launchUrl(person.nhsNumber, { user: 'bench.size', org: person.gpOrg }));
    await page.getByTestId('summary').waitFor();
    await page.waitForTimeout(200);
  } finally {
    await browser.close();
  }
  note(`${person.label}: cold p50 ${ms(sum(cold).total.p50)} ms, warm p50 ${ms(sum(warm).total.p50)} ms`);
  return { person, items, bundle, cold: sum(cold), warm: sum(warm) };
}

function table(rows: Row[]): string {
  const cell = (s: LatencySummary) => `${ms(s.p50)} / ${ms(s.max)}`;
  const lines = [
    '| Person | Items / Bundle | Cache | Click → useful screen, p50 / max | Click → viewer page (launch, SMART redirects), p50 | Viewer page → useful screen, p50 / max | `$everything` in the browser, p50 / max | Viewer page: session / record fetched / parsed / summary shown, p50 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows)
    for (const [cache, s] of [
      ['cold', r.cold],
      ['warm', r.warm],
    ] as const)
      lines.push(
        `| ${r.person.label} (#${r.person.index}) | ${int(r.items)} / ${bytes(r.bundle)} | ${cache} | **${cell(s.total)}** | ${ms(s.launch.p50)} | ${cell(s.page)} | ${cell(s.everything)} | ${ms(s.session.p50)} / ${ms(s.fetched.p50)} / ${ms(s.parsed.p50)} / ${ms(s.summary.p50)} |`,
      );
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (!HAVE_CHROMIUM) throw new Error(NO_CHROMIUM_MESSAGE);
  await ensureViewerBuilt();
  const region = await startSyntheticRegion(PERSONS);
  const rows: Row[] = [];
  try {
    for (const person of region.persons) rows.push(await measure(region, person));
  } finally {
    await region.close();
  }
  const machine = [
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})`,
    `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `Node ${process.version}`,
    execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim(),
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  ].join(', ');
  const out = [
    `npm run bench:viewer, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${RUNS} runs per row; region of ${PERSONS} persons (${int(region.resources)} resources) on in-memory PGlite.`,
    `Machine: ${machine}.`,
    '',
    table(rows),
  ].join('\n');
  mkdirSync('bench/out', { recursive: true });
  const file = `bench/out/viewer-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 13)}.md`;
  writeFileSync(file, `${out}\n`);
  process.stdout.write(`${out}\n\n(also written to ${file})\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
