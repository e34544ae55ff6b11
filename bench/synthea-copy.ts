/**
 * The yardstick for ingest on Synthea-shaped data: the plainest thing that moves the same data into
 * PostgreSQL. Every resource of every bundle file that ingest was sent (billing and directory
 * entries included, as ingest counts them) goes by `COPY … FROM STDIN` into a table
 * (person, id, type, body jsonb) with no index, on the same database. Building the COPY text
 * (reading and parsing the files) is not timed; only the COPY statements are.
 */
import { readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import pg from 'pg';
import { copyFrom } from './pg-copy.ts';
import { backendCpuMs } from './process-cpu.ts';
import type { CopyRun } from './raw-copy.ts';
import { rate, since } from './stats.ts';

/** COPY's text format: backslash, tab, newline and carriage return escaped. */
const field = (s: string): string =>
  s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

function copyText(files: { file: string; nhsNumber: string }[]): { rows: number; buffers: Buffer[] } {
  const buffers: Buffer[] = [];
  let rows = 0;
  let lines: string[] = [];
  for (const { file, nhsNumber } of files) {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
    for (const e of bundle.entry ?? []) {
      const r = e.resource!;
      lines.push(`${nhsNumber}\t${field(r.id ?? '')}\t${r.resourceType}\t${field(JSON.stringify(r))}\n`);
      rows++;
    }
    if (lines.length > 2000) {
      buffers.push(Buffer.from(lines.join('')));
      lines = [];
    }
  }
  if (lines.length > 0) buffers.push(Buffer.from(lines.join('')));
  return { rows, buffers };
}

export async function rawCopySynthea(
  url: string,
  files: { file: string; nhsNumber: string }[],
): Promise<CopyRun> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const run: CopyRun = { rows: 0, bytes: 0, ms: 0, perSecond: 0 };
  try {
    await client.query('DROP TABLE IF EXISTS synthea_copy');
    await client.query('CREATE TABLE synthea_copy (person text, id text, type text, body jsonb)');
    const backend = Number(
      (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid,
    );
    const cpuBefore = backendCpuMs(backend);
    // in slices of 200 files, so that memory stays bounded
    for (let i = 0; i < files.length; i += 200) {
      const { rows, buffers } = copyText(files.slice(i, i + 200));
      run.bytes += buffers.reduce((s, b) => s + b.length, 0);
      const started = performance.now();
      const copied = await copyFrom(client, 'COPY synthea_copy FROM STDIN', buffers);
      run.ms += since(started);
      if (copied !== rows) throw new Error(`COPY stored ${copied} rows of ${rows}`);
      run.rows += copied;
    }
    run.perSecond = rate(run.rows, run.ms);
    const cpuAfter = backendCpuMs(backend);
    if (cpuBefore !== undefined && cpuAfter !== undefined) run.backendCpuMs = cpuAfter - cpuBefore;
    await client.query('DROP TABLE synthea_copy');
    return run;
  } finally {
    await client.end();
  }
}
