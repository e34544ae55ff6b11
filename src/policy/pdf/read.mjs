/**
 * The text layer of one PDF, with pdfjs-dist (Mozilla's PDF engine): what both workers run
 * (./worker.mjs, called synchronously through synckit; ./async-worker.mjs, called with messages).
 * Plain JavaScript, so that a worker thread needs no TypeScript loader (the answer's shape is
 * PdfText in ./extract.ts).
 */
/** a letter is a few pages; a 300-page record bundle is read as far as this */
const MAX_PAGES = 100;
const MAX_CHARS = 512 * 1024;

/** @param {Uint8Array} data */
export async function extract(data) {
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
