/**
 * Runs in a worker thread (see ./extract.ts): reads the text layer of one PDF with pdfjs-dist,
 * Mozilla's PDF engine. pdfjs is asynchronous; the classifier that needs the words is synchronous
 * (it runs inside intake's and relabelling's loops), so this worker is called through synckit,
 * which blocks the caller until the answer comes back. Plain JavaScript, so that the worker thread
 * needs no TypeScript loader (the answer's shape is PdfText in ./extract.ts).
 */
import process from 'node:process';
import { runAsWorker } from 'synckit';

/** a letter is a few pages; a 300-page record bundle is read as far as this */
const MAX_PAGES = 100;
const MAX_CHARS = 512 * 1024;

/** @param {Uint8Array} data */
async function extract(data) {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let doc;
  try {
    doc = await pdfjs.getDocument({
      data,
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      stopAtErrors: true,
      verbosity: 0,
    }).promise;
  } catch (err) {
    const name = err?.name ?? '';
    // never the message: it can quote the document
    return { ok: false, reason: name === 'PasswordException' ? 'encrypted' : 'not a readable PDF' };
  }
  try {
    let text = '';
    const pages = Math.min(doc.numPages, MAX_PAGES);
    for (let p = 1; p <= pages && text.length < MAX_CHARS; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      for (const item of content.items) {
        if (item.str) text += item.str;
        text += item.hasEOL ? '\n' : ' ';
      }
      text += '\n';
      page.cleanup();
    }
    return { ok: true, text: text.slice(0, MAX_CHARS), pages: doc.numPages };
  } catch {
    return { ok: false, reason: 'not a readable PDF' };
  } finally {
    await doc.destroy();
  }
}

// A document that makes pdfjs throw outside the awaited calls must not take the server with it:
// the caller's wait times out and the document counts as unreadable.
process.on('uncaughtException', () => {});
process.on('unhandledRejection', () => {});

runAsWorker(extract);
