/**
 * `npm run bench:access`: what the access decision adds to a record open. Loads a small generated
 * region into a PostgreSQL database of its own, then, for a typical person and their GP practice's
 * clinician, times inside an open transaction the relationship lookup, the break-glass lookup and
 * the pure decision together (what the gate does before it reads anything), p50/p99 over many runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  activeBreakGlass,
  decideRecordAccess,
  relationshipsWith,
  type UserPrincipal,
} from '../src/access/index.ts';
import { directBackend } from '../src/cli/backend.ts';
import { loadFiles } from '../src/cli/load.ts';
import { loadConfig } from '../src/config/index.ts';
import { openDatabase } from '../src/db/index.ts';
import { generatePerson, regionSpec, writeRegion } from '../src/generate/index.ts';
import { findPersonByNhsNumber } from '../src/identity/index.ts';
import { applyRegion } from '../src/region/index.ts';
import { createBenchDatabase } from './databases.ts';
import { ms, note, summarise } from './stats.ts';

const PERSONS = Number(process.env.BENCH_ACCESS_PERSONS ?? 300);
const ITERATIONS = 3000;
const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const bench = await createBenchDatabase(adminUrl, `access_${Date.now()}`);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-access-'));
try {
  const db = await openDatabase({ databaseUrl: bench.url });
  const spec = regionSpec();
  await applyRegion(db, spec.organisations, spec.sources);
  await writeRegion({ persons: PERSONS, outDir: dir });
  const backend = await directBackend(loadConfig({}, { NODE_ENV: 'test' }), db);
  for (const s of spec.sources) await loadFiles(backend, s.id, [path.join(dir, s.id)], { concurrency: 3 });
  note(`loaded ${PERSONS} persons`);

  let index = 0;
  while (generatePerson(spec, index).heavy) index++;
  const shown = generatePerson(spec, index);
  const person = (await findPersonByNhsNumber(db, shown.nhsNumber))!;
  const gpSource = [...shown.bySource.keys()].find((id) => id.startsWith('gp-'))!;
  const org = spec.sources.find((s) => s.id === gpSource)!.org;
  const user: UserPrincipal = { kind: 'user', userId: 'dr.bench', org, role: 'R8000', issuer: 'bench' };
  const orgFacts = { ods: org, views: true, contributes: true };

  const samples: number[] = [];
  let allowed = 0;
  await db.transaction(async (tx) => {
    for (let i = 0; i < ITERATIONS; i++) {
      const t = performance.now();
      const now = new Date();
      const relationships = await relationshipsWith(tx, person.id, org);
      const breakGlass = await activeBreakGlass(tx, person.id, user, now);
      const d = decideRecordAccess(user, {
        org: orgFacts,
        personNhsNumber: person.nhsNumber,
        relationships,
        breakGlass,
        now,
      });
      samples.push(performance.now() - t);
      if (d.allowed) allowed++;
    }
  });
  const s = summarise(samples.sort((a, b) => a - b));
  const table = [
    '| What | Region | Runs | p50 (ms) | p99 (ms) | Allowed |',
    '| --- | --- | --- | --- | --- | --- |',
    `| Access decision: relationship lookup + break-glass lookup + decision | ${PERSONS} persons, PostgreSQL | ${ITERATIONS} | ${ms(s.p50)} | ${ms(s.p99)} | ${allowed}/${ITERATIONS} |`,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
  await bench.drop();
}
