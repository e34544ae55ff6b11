/**
 * `sharedcare load --source ID PATH…`: files and folders of FHIR Bundles (.json) and NDJSON
 * (.ndjson), sent as that source in order. NDJSON is sent in chunks, each all-or-nothing; a
 * chunk that fails is reported with its problems and the load goes on with the next.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import cliProgress from 'cli-progress';
import { SharedcareError } from '../errors/index.ts';
import type { Backend } from './backend.ts';
import { HL7_FILE, loadHl7File } from './load-hl7.ts';

export interface LoadSummary {
  files: number;
  requests: number;
  failedRequests: number;
  resources: number;
  counts: Record<string, number>;
  failures: { file: string; part: string; problems: string[] }[];
  seconds: number;
}

/** One request's worth of a file: `units` is what it counts for on the progress bar. */
interface Chunk {
  file: string;
  part: string;
  contentType: string;
  body: string;
  units: number;
}

export class LoadAborted extends Error {
  constructor(
    readonly summary: LoadSummary,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

const PATIENT_LINE = /"resourceType"\s*:\s*"Patient"/;

function isUnknownPatient(err: unknown): boolean {
  return (
    err instanceof SharedcareError &&
    err.problems.some((p) => p.message.includes('refers to a patient this source has not sent'))
  );
}

const EXTENSIONS = /\.(ndjson|json|hl7|er7)$/i;

export function listInputFiles(paths: string[]): string[] {
  const out: string[] = [];
  const visit = (p: string): void => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw new SharedcareError('invalid-request', `${p} does not exist`);
    if (st.isDirectory()) for (const f of readdirSync(p).sort()) visit(path.join(p, f));
    else if (EXTENSIONS.test(p)) out.push(p);
  };
  paths.forEach(visit);
  return out;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const line of readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity }))
    if (line.trim()) n++;
  return n;
}

export async function loadFiles(
  backend: Backend,
  sourceId: string,
  paths: string[],
  opts: { chunk?: number; progress?: boolean; concurrency?: number } = {},
): Promise<LoadSummary> {
  const started = performance.now();
  const files = listInputFiles(paths);
  const chunkSize = opts.chunk ?? 2000;
  const summary: LoadSummary = {
    files: files.length,
    requests: 0,
    failedRequests: 0,
    resources: 0,
    counts: {},
    failures: [],
    seconds: 0,
  };
  let total = 0;
  for (const f of files) total += /\.ndjson$/i.test(f) ? await countLines(f) : 1;
  const bar = opts.progress
    ? new cliProgress.SingleBar(
        {
          format: 'loading {bar} {percentage}% | {value}/{total} | {rate}/s | {file}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { rate: 0, file: '' });
  let done = 0;

  const attempt = async (contentType: string, body: string): Promise<void> => {
    const r = await backend.ingest(sourceId, contentType, body);
    for (const [k, v] of Object.entries(r.counts)) {
      summary.counts[k] = (summary.counts[k] ?? 0) + (v ?? 0);
      summary.resources += v ?? 0;
    }
  };

  // Up to `concurrency` requests in flight, so the database works on one chunk while the next is
  // mapped. A chunk whose items name a patient sent in a chunk still in flight is sent again once
  // everything before it has finished.
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const inFlight = new Set<Promise<void>>();
  const drain = async () => {
    while (inFlight.size > 0) await Promise.race(inFlight);
  };
  const runChunk = async (
    before: Promise<void>[],
    { file, part, contentType, body, units }: Chunk,
  ): Promise<void> => {
    summary.requests++;
    try {
      try {
        await attempt(contentType, body);
      } catch (err) {
        if (!(before.length > 0 && isUnknownPatient(err))) throw err;
        await Promise.allSettled(before);
        await attempt(contentType, body);
      }
    } catch (err) {
      summary.failedRequests++;
      const problems =
        err instanceof SharedcareError
          ? err.problems.map((p) => `${p.expression ? `${p.expression}: ` : ''}${p.message}`)
          : [(err as Error).message];
      summary.failures.push({ file, part, problems: problems.slice(0, 10) });
      // A refused source or an unreachable server will refuse every chunk: stop at the first.
      if (!(err instanceof SharedcareError) || err.code === 'forbidden' || err.code === 'unauthenticated') {
        throw new LoadAborted(summary, err);
      }
    }
    done += units;
    bar?.update(done, {
      rate: Math.round(done / ((performance.now() - started) / 1000)),
      file: path.basename(file),
    });
  };
  let aborted: unknown;
  const send = async (
    file: string,
    part: string,
    contentType: string,
    body: string,
    units: number,
  ): Promise<void> => {
    if (aborted) throw aborted;
    const p: Promise<void> = runChunk([...inFlight], { file, part, contentType, body, units })
      .catch((err: unknown) => {
        aborted ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  };

  for (const file of files) {
    if (HL7_FILE.test(file)) {
      await drain();
      await loadHl7File(backend, sourceId, file, summary, () => undefined);
      done += 1;
      bar?.update(done, { file: path.basename(file) });
    } else if (/\.ndjson$/i.test(file)) {
      let lines: string[] = [];
      let first = 1;
      let n = 0;
      for await (const line of readline.createInterface({
        input: createReadStream(file),
        crlfDelay: Infinity,
      })) {
        n++;
        if (!line.trim()) continue;
        // Cut chunks just before a Patient (sources list a patient before its items), so that a
        // chunk rarely names a patient from another chunk; give up waiting at twice the size.
        if (lines.length >= chunkSize && (PATIENT_LINE.test(line) || lines.length >= 2 * chunkSize)) {
          await send(
            file,
            `lines ${first}-${n - 1}`,
            'application/fhir+ndjson',
            lines.join('\n'),
            lines.length,
          );
          lines = [];
          first = n;
        }
        lines.push(line);
      }
      if (lines.length > 0)
        await send(file, `lines ${first}-${n}`, 'application/fhir+ndjson', lines.join('\n'), lines.length);
    } else {
      await send(file, 'whole file', 'application/fhir+json', readFileSync(file, 'utf8'), 1);
    }
  }
  await drain();
  if (aborted) throw aborted;
  bar?.stop();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

export function formatLoadSummary(s: LoadSummary): string {
  const lines = [
    `Loaded ${s.files} file(s) in ${s.requests} request(s) in ${s.seconds.toFixed(1)} s (${Math.round(s.resources / Math.max(s.seconds, 0.001))} entries/s).`,
    `  ${
      Object.entries(s.counts)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || 'nothing stored'
    }`,
  ];
  if (s.failedRequests > 0) {
    lines.push(`  ${s.failedRequests} request(s) failed and stored nothing:`);
    for (const f of s.failures.slice(0, 10)) {
      lines.push(`   - ${f.file} (${f.part}):`);
      for (const p of f.problems) lines.push(`       ${p}`);
    }
  }
  return lines.join('\n');
}
