/**
 * `npm run bench:fhir`: the FHIR read API over HTTP on 127.0.0.1, against the synthetic region
 * (bench/viewer-region.ts: the generator's region through the real intake, in-memory PGlite, the
 * real server listening), read by a clinician at the person's GP practice through the gate (access,
 * policy, audit row per request). Measured, one request at a time after a warm-up: $everything for
 * the typical (~300 items) and the heavy person (the long tail), the heavy person's first page of
 * 100, a filtered search (laboratory results since 2020, newest first, 50 a page) and $summary.
 * Options (environment): BENCH_FHIR_RUNS (default 30), BENCH_FHIR_PERSONS (default 40).
 */
import os from 'node:os';
import { mintUserToken } from '../src/access/index.ts';
import type { ChosenPerson } from './region.ts';
import { bytes, int, ms, note, summarise } from './stats.ts';
import { startSyntheticRegion } from './viewer-region.ts';

const RUNS = Number(process.env.BENCH_FHIR_RUNS ?? 30);
const PERSONS = Number(process.env.BENCH_FHIR_PERSONS ?? 40);
const WARM_UP = 3;

const region = await startSyntheticRegion(PERSONS);
try {
  const rows: string[] = [];
  const idOf = async (p: ChosenPerson, token: string): Promise<string> => {
    const res = await fetch(
      `${region.base}/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${p.nhsNumber}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    const b = (await res.json()) as { entry: { resource: { resourceType: string; id: string } }[] };
    return b.entry.find((e) => e.resource.resourceType === 'Patient')!.resource.id;
  };
  const cases: { label: string; person: ChosenPerson; path: (id: string) => string }[] = [];
  for (const p of region.persons) {
    cases.push({
      label: `$everything, ${p.label} person`,
      person: p,
      path: (id) => `Patient/${id}/$everything`,
    });
  }
  const heavy = region.persons.find((p) => p.label === 'heavy')!;
  const typical = region.persons.find((p) => p.label === 'typical')!;
  cases.push(
    {
      label: '$everything, heavy person, first page of 100',
      person: heavy,
      path: (id) => `Patient/${id}/$everything?_count=100`,
    },
    {
      label: 'Observation?category=laboratory&date=ge2020-01-01&_sort=-date&_count=50, heavy person',
      person: heavy,
      path: (id) => `Observation?patient=${id}&category=laboratory&date=ge2020-01-01&_sort=-date&_count=50`,
    },
    { label: '$summary, typical person', person: typical, path: (id) => `Patient/${id}/$summary` },
  );
  for (const c of cases) {
    const token = await mintUserToken(region.config.devIssuerSecret!, {
      user: 'bench.fhir',
      org: c.person.gpOrg,
      role: 'R8000',
    });
    const url = `${region.base}/fhir/${c.path(await idOf(c.person, token))}`;
    const samples: number[] = [];
    let size = 0;
    let entries = 0;
    for (let i = 0; i < WARM_UP + RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      const took = performance.now() - t0;
      if (res.status !== 200) throw new Error(`${c.label}: ${res.status} ${text.slice(0, 200)}`);
      if (i >= WARM_UP) samples.push(took);
      size = text.length;
      entries = (JSON.parse(text) as { entry?: unknown[] }).entry?.length ?? 0;
    }
    const s = summarise(samples);
    rows.push(
      `| ${c.label} | ${int(entries)} | ${bytes(size)} | ${ms(s.p50)} | ${ms(s.p99)} | ${s.samples} |`,
    );
    note(`${c.label}: p50 ${ms(s.p50)} p99 ${ms(s.p99)}`);
  }
  console.log(
    `\nFHIR API, ${PERSONS} synthetic persons (${int(region.resources)} resources), PGlite in memory, ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log('| request | entries | body | p50 | p99 | runs |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
} finally {
  await region.close();
}
