/**
 * The words of a PDF attachment, for the free-text screen. The extraction runs in a worker thread
 * with pdfjs-dist (./worker.ts) and is called synchronously through synckit, so that the classifier
 * stays a plain function. Answers are remembered by the digest of the PDF's bytes: intake,
 * the review queue and every relabel read the same letter many times.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
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

export function pdfText(bytes: Buffer): PdfText {
  if (bytes.length > MAX_PDF_BYTES) return { ok: false, reason: 'too large to read' };
  if (bytes.subarray(0, 1024).indexOf('%PDF-') < 0) return { ok: false, reason: 'not a readable PDF' };
  const key = createHash('sha256').update(bytes).digest('base64');
  const known = cache.get(key);
  if (known) return known;
  let answer: PdfText;
  try {
    answer = worker()(new Uint8Array(bytes));
  } catch {
    // a timeout or a crashed worker: start a fresh one next time
    run = undefined;
    answer = { ok: false, reason: 'could not be read in time' };
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, answer);
  return answer;
}
