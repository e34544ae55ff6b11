/**
 * `npm run bench:profile`: CPU profiles of ingest and of record open on the Synthea-shaped data
 * (bench/synthea-data.ts), on PostgreSQL, in a database of its own (dropped at the end).
 *
 * 1. ingest: the cloned bundles through the real path (loadFiles over the direct backend, 4 requests
 *    in flight), profiled from the first request to the last;
 * 2. record open: `GET /fhir/Patient/{id}/$everything` for the typical and the heavy person, through
 *    the real app in-process (Fastify's inject: token check, gate, Bundle, response), one at a time.
 *
 * Writes each .cpuprofile (open them in Chrome DevTools or speedscope) and a summary of where the
 * time went to bench/out/profile-<timestamp>/. Options: --persons N (default 100), --opens N
 * (typical opens, default 300; the heavy person gets a tenth), --pg-url URL, --keep.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/index.ts';
import { profiled, summariseProfile } from './cpu-profile.ts';
import { createBenchDatabase, postgresReachable } from './databases.ts';
import { ingestRegion } from './ingest.ts';
import { startServer } from './record-open.ts';
import { SYNTHEA_IN_FLIGHT } from './synthea.ts';
import { SYNTHEA_DIR, syntheaPresent, writeSyntheaRegion } from './synthea-data.ts';
import { int, note, seconds } from './stats.ts';

const { values } = parseArgs({
  options: {
    persons: { type: 'string', default: '100' },
    opens: { type: 'string', default: '300' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    keep: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  if (!syntheaPresent()) {
    note(`Synthea fixtures not found at ${SYNTHEA_DIR}: nothing to profile (skipped).`);
    return;
  }
  if (!(await postgresReachable(values['pg-url']))) {
    note(`PostgreSQL is not reachable at ${values['pg-url']}: nothing to profile (skipped).`);
    return;
  }
  const tag = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  const out = path.resolve(import.meta.dirname, 'out', `profile-${tag}`);
  mkdirSync(out, { recursive: true });
  const data = writeSyntheaRegion(path.join(out, 'data'), Number(values.persons));
  const bench = await createBenchDatabase(values['pg-url'], `${tag}_profile`);
  const db = await openDatabase({ databaseUrl: bench.url });
  const report: string[] = [];
  try {
    note(`ingesting ${int(data.entries)} entries (${int(data.records)} records), profiled`);
    const ingest = await profiled(path.join(out, 'ingest.cpuprofile'), () =>
      ingestRegion(db, data, 2000, 'profile', SYNTHEA_IN_FLIGHT),
    );
    const r = ingest.value;
    report.push(
      `## ingest: ${int(r.resources)} entries in ${seconds(r.ms)} (${int(r.perSecond)}/s, profiler on), ${r.failedRequests} failed`,
      summariseProfile(ingest.profile),
    );
    await db.query('VACUUM ANALYZE');
    const server = await startServer(db);
    try {
      for (const p of data.persons) {
        const { rows } = await db.query<{ id: string }>('SELECT id FROM person WHERE nhs_number = $1', [
          p.nhsNumber,
        ]);
        const id = rows[0]!.id;
        const viewer = await server.viewer(p.gpOrg);
        const open = () =>
          server.app.server.inject({
            method: 'GET',
            url: `/fhir/Patient/${id}/$everything`,
            headers: { authorization: `Bearer ${viewer.token}` },
          });
        const n = p.label === 'typical' ? Number(values.opens) : Math.ceil(Number(values.opens) / 10);
        for (let i = 0; i < Math.min(n, 30); i++) await open(); // warm-up
        const started = performance.now();
        const prof = await profiled(path.join(out, `open-${p.label}.cpuprofile`), async () => {
          let items = 0;
          for (let i = 0; i < n; i++) {
            const res = await open();
            if (res.statusCode !== 200) throw new Error(`record open answered ${res.statusCode}`);
            items = Number(/"total":(\d+)/.exec(res.body)?.[1]);
          }
          return items;
        });
        const ms = (performance.now() - started) / n;
        report.push(
          `## record open over HTTP (inject), ${p.label} (${int(prof.value)} items): ${n} opens, ${ms.toFixed(2)} ms each (profiler on)`,
          summariseProfile(prof.profile),
        );
        const gateStarted = performance.now();
        const gate = await profiled(path.join(out, `gate-${p.label}.cpuprofile`), async () => {
          for (let i = 0; i < n; i++) await server.app.services.gate.everything({ user: viewer.user }, id);
        });
        report.push(
          `## gate.everything() alone, ${p.label}: ${n} opens, ${((performance.now() - gateStarted) / n).toFixed(2)} ms each (profiler on)`,
          summariseProfile(gate.profile),
        );
      }
    } finally {
      await server.close();
    }
  } finally {
    await db.close();
    if (values.keep) note(`kept database ${bench.name}`);
    else await bench.drop();
    rmSync(path.join(out, 'data'), { recursive: true, force: true });
  }
  writeFileSync(path.join(out, 'summary.txt'), `${report.join('\n\n')}\n`);
  process.stdout.write(`${report.join('\n\n')}\n`);
  note(`profiles and summary in ${path.relative(process.cwd(), out)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
