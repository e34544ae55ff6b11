/**
 * `npm run bench -- --data synthea`, on PostgreSQL: write the Synthea-shaped region
 * (bench/synthea-data.ts) → ingest it through the real path, 4 requests in flight → a raw COPY of
 * the same resources into (person, id, type, jsonb) → open a typical and the heavy person's record
 * over HTTP (1 and N connections), through the gate in-process, and by the bare SQL fetch.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { bareSqlPostgres } from './bare-sql.ts';
import { ingestRegion } from './ingest.ts';
import { benchPostgres, opens, type OpenTarget, type RunContext } from './phases.ts';
import { cpuMark, cpuSince } from './process-cpu.ts';
import { startServer } from './record-open.ts';
import { rawCopySynthea } from './synthea-copy.ts';
import { HEAVY_RECORDS, SYNTHEA_SOURCES, writeSyntheaRegion } from './synthea-data.ts';
import { int, note, seconds, since } from './stats.ts';

/** requests in flight during the Synthea ingest */
export const SYNTHEA_IN_FLIGHT = 4;

export async function runSynthea(ctx: RunContext, adminUrl: string): Promise<void> {
  const { opts } = ctx;
  const dir = path.join(ctx.workDir, 'synthea');
  note(`Synthea: cloning the fixture bundles into ${int(opts.persons)} persons + 1 heavy person`);
  const t0 = performance.now();
  const data = writeSyntheaRegion(dir, opts.persons);
  ctx.cleanups.push(async () => {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  });
  note(
    `  ${int(data.records)} records, ${int(data.entries)} entries (${int(data.clinical)} clinical) in ${seconds(since(t0))}`,
  );

  const { bench, db, closed } = await benchPostgres(ctx, adminUrl, `${ctx.tag}_synthea`);

  note(`Synthea: ingesting into ${bench.name}, ${SYNTHEA_IN_FLIGHT} requests in flight`);
  const mark = await cpuMark(db);
  const run = await ingestRegion(db, data, opts.chunk, 'Synthea', SYNTHEA_IN_FLIGHT);
  const used = await cpuSince(db, mark);
  note(`  ${int(run.resources)} resources in ${seconds(run.ms)}: ${int(run.perSecond)}/s`);
  if (run.failedRequests > 0) note(`  ${run.failedRequests} requests failed; first: ${run.firstFailure}`);
  note('Synthea: raw COPY of the same resources into (person, id, type, jsonb)');
  const copy = await rawCopySynthea(bench.url, data.files);
  note(`  ${int(copy.rows)} rows in ${seconds(copy.ms)}: ${int(copy.perSecond)}/s`);
  const perEntry = (ms: number) => (ms * 1000) / run.resources;
  ctx.ingest.push({
    db: 'PostgreSQL',
    persons: opts.persons + 1,
    run,
    copy,
    cpu: {
      nodeUs: perEntry(used.nodeMs),
      nodeSystemUs: perEntry(used.nodeSystemMs),
      pgUs: perEntry(used.pgMs),
      copyPgUs: copy.backendCpuMs !== undefined ? (copy.backendCpuMs * 1000) / copy.rows : undefined,
    },
  });
  ctx.notes.push(
    `Synthea-shaped data: the ${data.templates} Synthea R4 bundles of ../shared/fixtures/synthea-r4 cloned into ` +
      `${int(opts.persons)} persons and one heavy person (${HEAVY_RECORDS} records, one NHS number): ${int(data.records)} records, ` +
      `each split into a GP bundle (${SYNTHEA_SOURCES.gp}) and a hospital bundle (${SYNTHEA_SOURCES.hospital}), ` +
      `${int(data.entries)} entries, ${int(data.clinical)} of them clinical. Ingest: one bundle per request, ` +
      `${SYNTHEA_IN_FLIGHT} in flight, GP source first; resources/s counts every entry (billing and directory entries ` +
      'are answered "ignored"). Raw COPY: the same entries, COPY … FROM STDIN into (person, id, type, body jsonb), no index.',
  );
  await db.query('VACUUM ANALYZE');
  await db.query('CHECKPOINT');

  const server = await startServer(db);
  try {
    const targets: OpenTarget[] = [];
    for (const p of data.persons) {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM person WHERE nhs_number = $1', [
        p.nhsNumber,
      ]);
      if (!rows[0]) throw new Error(`the ${p.label} person was not loaded`);
      targets.push({
        person: `${p.label} (${p.from}, viewer at ${p.gpOrg})`,
        gpOrg: p.gpOrg,
        id: rows[0].id,
      });
    }
    const sql = (id: string, n: number, max: number) => bareSqlPostgres(bench.url, id, n, max);
    await opens(ctx, 'PostgreSQL', `Synthea, ${int(opts.persons)} + 1 persons`, server, targets, sql);
  } finally {
    await server.close();
    await db.close();
    closed();
  }
}
