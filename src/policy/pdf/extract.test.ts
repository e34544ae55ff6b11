import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { readPdfAttachments } from '../item-text.ts';
import { renderPdf } from '../../generate/letters.ts';
import { holdPdfAnswers, pdfReads, pdfReadTimeout, pdfText, pdfTextAsync } from './extract.ts';

/** Distinct PDFs that pdfjs reads and fails on quickly (each is answered, and remembered, as unreadable). */
const letters = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => Buffer.from(`%PDF-1.4\n% ${tag} letter ${i}\n%%EOF\n`));
const asResources = (pdfs: Buffer[]) =>
  pdfs.map((b) => ({
    resourceType: 'DocumentReference',
    content: [{ attachment: { contentType: 'application/pdf', data: b.toString('base64') } }],
  }));

/** A short clinic letter that pdfjs reads, distinct by tag and number. */
const clinicLetter = (tag: string, i: number) =>
  Buffer.from(renderPdf(`${tag} letter ${i}: seen in clinic today.`), 'latin1');

describe('PDF answers read ahead of a transaction', () => {
  it('are all there when classified, however many the request carried, until released', async () => {
    // more than the 500 answers the reader remembers: a batch this size found none of its first
    // ones when it classified them, and read every one again, blocking, inside its transaction
    const pdfs = letters(650, 'held');
    const release = await readPdfAttachments(asResources(pdfs));
    const before = pdfReads();
    for (const pdf of pdfs) expect(pdfText(pdf).ok).toBe(false);
    expect(pdfReads() - before).toBe(0);
    release();

    // released, the oldest are forgotten as others are read, and read again when asked for
    const others = await readPdfAttachments(asResources(letters(600, 'later')));
    others();
    const again = pdfReads();
    pdfText(pdfs[0]!);
    expect(pdfReads() - again).toBe(1);
  }, 60_000);

  it('time each read from when the reader takes it, not from when it was queued', async () => {
    const letter = (i: number) =>
      Buffer.from(
        renderPdf(
          Array.from({ length: 45 }, (_, l) => `Clinic letter ${i}, line ${l}: seen today.`).join('\n'),
        ),
        'latin1',
      );
    expect((await pdfTextAsync(letter(-1))).ok).toBe(true); // the reader thread started
    // a limit each read meets by far; queued together, a thousand of them took many times longer, and
    // the ones at the back ran out of time while they waited
    const was = pdfReadTimeout(500);
    try {
      const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => pdfTextAsync(letter(i))));
      expect(answers.filter((a) => !a.ok)).toEqual([]);
    } finally {
      pdfReadTimeout(was);
    }
  }, 60_000);

  it('take turns between requests: a letter sent alone is not held behind another request’s batch', async () => {
    expect((await pdfTextAsync(clinicLetter('warm', 0))).ok).toBe(true); // the reader thread started
    // a hospital's backlog: 300 letters in one request, then a GP's one letter
    let batchDone = false;
    const batch = holdPdfAnswers(Array.from({ length: 300 }, (_, i) => clinicLetter('backlog', i))).then(
      (release) => {
        batchDone = true;
        return release;
      },
    );
    const alone = await pdfTextAsync(clinicLetter('gp', 0));
    expect(alone.ok).toBe(true);
    // read in turn, the single letter came back while most of the backlog was still waiting
    expect(batchDone).toBe(false);
    (await batch)();
  }, 60_000);

  it('give the letters queued behind a read whose worker died to a new worker, not fail them all', async () => {
    expect((await pdfTextAsync(clinicLetter('warm', 1))).ok).toBe(true); // the reader thread started
    // the reader thread dies while it reads this one (as when pdfjs takes the thread down)
    const fatal = clinicLetter('fatal', 0);
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, message: { data?: Uint8Array }) {
      post.call(this, message);
      if (message.data && Buffer.from(message.data).equals(fatal)) void this.terminate();
    };
    try {
      const queued = [clinicLetter('queued', 0), clinicLetter('queued', 1), clinicLetter('other lane', 0)];
      const answers = await Promise.all([fatal, ...queued].map((b) => pdfTextAsync(b)));
      expect(answers[0]!.ok).toBe(false);
      // before, each failed answer gave the dead worker the next letter: all came back unread
      expect(answers.slice(1).map((a) => a.ok)).toEqual([true, true, true]);
    } finally {
      Worker.prototype.postMessage = post;
    }
  }, 60_000);
});
