/**
 * `npm run bench:workers [-- --seconds 15 --persons 100]`: record opens per second with 10
 * connections against `sharedcare serve --workers 1` and then `--workers 2`, on the same
 * PostgreSQL database, in one run. Each server is a real child process (node:cluster for two);
 * autocannon drives GET /fhir/Patient/{id}/$everything over the persons in turn, as one clinician
 * at the practice that holds them. The machine's load average is printed with the figures.
 * (BENCH_PG_URL picks the server; the database is created and dropped here.)
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

type CannonResult = Parameters<Parameters<typeof autocannon>[1]>[1];
import { deriveNhsNumber } from '../src/generate/nhs-numbers.ts';
import { freePort } from '../test/pg-cluster.ts';
import { clinicianToken, sourceToken, startServer } from '../test/server-process.ts';
import { createBenchDatabase, postgresReachable } from './databases.ts';

const { values: o } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    persons: { type: 'string', default: '100' },
    items: { type: 'string', default: '30' },
  },
});
const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
if (!(await postgresReachable(adminUrl))) {
  console.error(`bench:workers needs PostgreSQL at ${adminUrl} (set BENCH_PG_URL)`);
  process.exit(1);
}
const bench = await createBenchDatabase(adminUrl, `workers_${Date.now()}`);

/** One person's record: a Patient and `items` observations, from the practice's FHIR source. */
function record(p: number, items: number) {
  const patient = `bp${p}`;
  const entry: unknown[] = [
    {
      resource: {
        resourceType: 'Patient',
        id: patient,
        identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: deriveNhsNumber(p, 17) }],
        birthDate: '1960-01-01',
      },
      request: { method: 'PUT', url: `Patient/${patient}` },
    },
  ];
  for (let i = 0; i < items; i++)
    entry.push({
      resource: {
        resourceType: 'Observation',
        id: `${patient}-o${i}`,
        status: 'final',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '1049301000000100' }] },
        subject: { reference: `Patient/${patient}` },
        effectiveDateTime: `2023-0${1 + (i % 9)}-15`,
        valueQuantity: { value: 40 + i, unit: 'mmol/mol' },
      },
      request: { method: 'PUT', url: `Observation/${patient}-o${i}` },
    });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

async function seed(base: string, persons: number, items: number): Promise<string[]> {
  const source = await sourceToken('gp-riverside');
  for (let p = 0; p < persons; p++) {
    const res = await fetch(`${base}/ingest/fhir`, {
      method: 'POST',
      headers: { authorization: `Bearer ${source}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(record(p, items)),
    });
    if (!res.ok) throw new Error(`seeding failed: ${res.status}`);
  }
  const token = await clinicianToken('bench.reader');
  const ids: string[] = [];
  for (let p = 0; p < persons; p++) {
    const found = (await (
      await fetch(
        `${base}/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${deriveNhsNumber(p, 17)}`,
        { headers: { authorization: `Bearer ${token}` } },
      )
    ).json()) as { entry?: { resource: { id: string } }[] };
    ids.push(found.entry![0]!.resource.id);
  }
  return ids;
}

function load(base: string, ids: string[], token: string, seconds: number): Promise<CannonResult> {
  let n = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: base,
        connections: 10,
        duration: seconds,
        headers: { authorization: `Bearer ${token}` },
        requests: [
          { setupRequest: (req) => ({ ...req, path: `/fhir/Patient/${ids[n++ % ids.length]}/$everything` }) },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

const rows: string[] = [];
let ids: string[] | undefined;
try {
  for (const workers of [1, 2]) {
    const server = await startServer({
      databaseUrl: bench.url,
      port: await freePort(),
      args: ['--workers', String(workers)],
      env: { LOG_LEVEL: 'warn' },
      ...(workers > 1 ? { waitFor: new RegExp(`processes ${workers} `) } : {}),
    });
    try {
      ids ??= await seed(server.base, Number(o.persons), Number(o.items));
      const token = await clinicianToken('bench.reader');
      await load(server.base, ids, token, 3); // warm: connections, prepared statements
      const loadBefore = os.loadavg()[0]!;
      const r = await load(server.base, ids, token, Number(o.seconds));
      rows.push(
        `| ${workers} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx + r.errors} | ${loadBefore.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)} |`,
      );
      console.error(rows.at(-1));
    } finally {
      await server.stop();
    }
  }
} finally {
  await bench.drop();
}
console.log(
  [
    `Record opens ($everything, ${o.items} items each, ${o.persons} persons), 10 connections, ${o.seconds} s each, ${os.cpus().length} cores:`,
    '',
    '| workers | opens/s | p50 ms | p99 ms | errors | load average (1 min) |',
    '| ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n'),
);
