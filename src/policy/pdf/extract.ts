/**
 * The words of a PDF attachment, for the free-text screen, read with pdfjs-dist in a worker thread
 * (./read.mjs). Two ways in: `pdfTextAsync`, which intake awaits before it classifies (the event
 * loop serves other requests while pdfjs works), and `pdfText`, synchronous through synckit, so
 * that the classifier stays a plain function for relabelling and the review queue. Answers are
 * remembered by the digest of the PDF's bytes, so the classifier finds what intake read ahead, and
 * relabels and the review queue read the same letter once.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createSyncFn } from 'synckit';

export type PdfText = { ok: true; text: string; pages: number } | { ok: false; reason: string };

/** larger PDFs are not read (and so go to review): a clinic letter is tens of kilobytes */
export const MAX_PDF_BYTES = 20 * 1024 * 1024;
/** a PDF that takes longer than this to read is treated as unreadable */
const TIMEOUT_MS = 5_000;
const CACHE_SIZE = 500;

let run: ((data: Uint8Array) => PdfText) | undefined;
const cache = new Map<string, PdfText>();

function worker(): (data: Uint8Array) => PdfText {
  run ??= createSyncFn(fileURLToPath(new URL('./worker.mjs', import.meta.url)), { timeout: TIMEOUT_MS });
  return run;
}

function remember(key: string, answer: PdfText): PdfText {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, answer);
  return answer;
}

/**
 * Answers held for an intake request or HL7 v2 batch until it has committed (holdPdfAnswers): the
 * cache keeps the newest 500, so a batch that read more ahead than that found none of its first
 * ones when it classified them, and read them all again, blocking, inside its transaction.
 */
const held = new Map<string, { answer: PdfText; holds: number }>();

/** Reads by the reader threads, ahead or blocking (for tests: what was read, not remembered). */
let reads = 0;
export const pdfReads = (): number => reads;

/** The answer without reading: refused by size or header, or read before; else the cache key. */
function known(bytes: Buffer): { answer: PdfText; key?: string } | { key: string } {
  if (bytes.length > MAX_PDF_BYTES) return { answer: { ok: false, reason: 'too large to read' } };
  if (bytes.subarray(0, 1024).indexOf('%PDF-') < 0)
    return { answer: { ok: false, reason: 'not a readable PDF' } };
  const key = createHash('sha256').update(bytes).digest('base64');
  const answer = held.get(key)?.answer ?? cache.get(key);
  return answer ? { answer, key } : { key };
}

/**
 * Reads these PDFs without blocking and holds their answers where the classifier finds them until
 * the returned function is called, however many other PDFs are read meanwhile.
 */
export async function holdPdfAnswers(pdfs: Buffer[]): Promise<() => void> {
  const keys: string[] = [];
  const lane = {}; // this request's letters take their turns together (see Reader)
  await Promise.all(
    pdfs.map(async (bytes) => {
      const k = known(bytes);
      const answer = 'answer' in k ? k.answer : await readAsync(bytes, k.key, lane);
      if (!k.key) return;
      const h = held.get(k.key);
      if (h) h.holds++;
      else held.set(k.key, { answer, holds: 1 });
      keys.push(k.key);
    }),
  );
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const key of keys) {
      const h = held.get(key);
      if (h && --h.holds === 0) held.delete(key);
    }
  };
}

export function pdfText(bytes: Buffer): PdfText {
  const k = known(bytes);
  if ('answer' in k) return k.answer;
  let answer: PdfText;
  try {
    reads++;
    answer = worker()(new Uint8Array(bytes));
  } catch {
    // a timeout or a crashed worker: start a fresh one next time
    run = undefined;
    answer = { ok: false, reason: 'could not be read in time' };
  }
  return remember(k.key, answer);
}

/** One PDF waiting for the reader thread; `lane` is the request it came with. */
interface Job {
  id: number;
  bytes: Buffer;
  lane: object;
  done: (answer: PdfText) => void;
}

/**
 * The message-driven worker, started on first use, given one PDF at a time from its queue: the
 * time limit of a read starts when the worker is given it. Posted all at once, the reads ran
 * interleaved in the one thread and each one's limit ran from when it was queued, so under a
 * batch of long letters readable ones came back "could not be read in time" (and were remembered
 * so, and went to review). It keeps the process alive while a read waits, and not otherwise
 * (`settle`).
 *
 * The queue has a lane per request (an intake request's or HL7 v2 batch's letters, or one letter
 * read alone), and the reader takes from each lane in turn. With one queue in arrival order, a
 * batch of a thousand letters from a hospital's backlog held every GP's single letter, and the
 * intake request waiting for it, until the last of the thousand had been read.
 */
interface Reader {
  worker: Worker;
  /** the worker has gone: nothing more is given to it (its queue went to the next one) */
  gone: boolean;
  waiting: Map<number, (a: PdfText) => void>;
  /** letters not yet given to the worker, by lane, lanes in the order of their next turn */
  lanes: Map<object, Job[]>;
  busy: boolean;
}
let reader: Reader | undefined;
let nextId = 0;
/** reads of the same bytes in flight at once share one answer */
const inFlight = new Map<string, Promise<PdfText>>();

let timeoutMs = TIMEOUT_MS;
/** The time one read may take (default 5 s); for tests. Returns the previous limit. */
export function pdfReadTimeout(ms: number): number {
  const was = timeoutMs;
  timeoutMs = ms;
  return was;
}

function asyncReader(): Reader {
  if (reader) return reader;
  const w = new Worker(fileURLToPath(new URL('./async-worker.mjs', import.meta.url)));
  const r: Reader = { worker: w, gone: false, waiting: new Map(), lanes: new Map(), busy: false };
  w.on('message', (m: { id: number; answer: PdfText }) => {
    r.waiting.get(m.id)?.(m.answer);
    r.waiting.delete(m.id);
    settle(r);
  });
  const fail = () => {
    if (reader === r) reader = undefined;
    // gone first: each answer below would otherwise give this dead worker the next letter, and so
    // fail every letter of every lane in turn instead of moving them to the next worker
    r.gone = true;
    const waiting = [...r.waiting.values()];
    r.waiting.clear();
    for (const done of waiting) done({ ok: false, reason: 'could not be read in time' });
    // the PDFs not yet given to this worker go to the next one
    const rest = [...r.lanes.values()].flat();
    r.lanes.clear();
    if (rest.length > 0) {
      const next = asyncReader();
      for (const job of rest) enqueue(next, job);
      pump(next);
    }
    settle(r);
  };
  w.on('error', fail);
  w.on('exit', fail);
  return (reader = r);
}

function enqueue(r: Reader, job: Job): void {
  const lane = r.lanes.get(job.lane);
  if (lane) lane.push(job);
  else r.lanes.set(job.lane, [job]);
}

/** The next lane's first letter; the lane, if it has more, goes to the back. */
function nextJob(r: Reader): Job | undefined {
  const first = r.lanes.entries().next();
  if (first.done) return undefined;
  const [lane, jobs] = first.value;
  const job = jobs.shift()!;
  r.lanes.delete(lane);
  if (jobs.length > 0) r.lanes.set(lane, jobs);
  return job;
}

/** Gives the worker the next PDF of its queue, once it has none. */
function pump(r: Reader): void {
  if (r.busy || r.gone) return;
  const job = nextJob(r);
  if (!job) return settle(r);
  r.busy = true;
  const timer = setTimeout(() => {
    // pdfjs stuck on one document: it is unreadable, and the worker goes (the queue moves on)
    r.waiting.delete(job.id);
    job.done({ ok: false, reason: 'could not be read in time' });
    void r.worker.terminate();
  }, timeoutMs);
  timer.unref();
  r.waiting.set(job.id, (answer) => {
    clearTimeout(timer);
    r.busy = false;
    job.done(answer);
    pump(r);
  });
  settle(r);
  r.worker.postMessage({ id: job.id, data: new Uint8Array(job.bytes) });
}

/**
 * Held (ref) while reads wait, let go (unref) when none do. Set after the listeners, since adding
 * a 'message' listener refs the worker's port again: until 2026-12-06 the early unref was undone,
 * and every process that had read a PDF this way (a soak's set-up, a load) never exited by itself.
 */
function settle(r: Reader): void {
  if (r.waiting.size > 0 || r.lanes.size > 0) r.worker.ref();
  else r.worker.unref();
}

/** The same answer as pdfText, read without blocking the event loop; remembered for pdfText. */
export function pdfTextAsync(bytes: Buffer): Promise<PdfText> {
  const k = known(bytes);
  return 'answer' in k ? Promise.resolve(k.answer) : readAsync(bytes, k.key, {});
}

function readAsync(bytes: Buffer, key: string, lane: object): Promise<PdfText> {
  const pending = inFlight.get(key);
  if (pending) return pending;
  reads++;
  const read = new Promise<PdfText>((done) => {
    const r = asyncReader();
    enqueue(r, { id: nextId++, bytes, lane, done });
    pump(r);
  }).then((answer) => {
    inFlight.delete(key);
    return remember(key, answer);
  });
  inFlight.set(key, read);
  return read;
}
