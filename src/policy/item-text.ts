/**
 * The words of an item, for the free-text screen: titles, descriptions, notes, the text and display
 * of codeable concepts, comments and conclusions, string values, the narrative, and attached
 * documents sent inline (text in any charset, HTML, XML, RTF, JSON, and PDF through its text layer;
 * base64; src/policy/document-text.ts).
 * Sharedcare's own provenance extension (the sending organisation's name) is not the item's content
 * and is skipped, so that intake and relabelling read the same words.
 *
 * An attached document that cannot be read for its words (a PDF damaged, truncated, encrypted, too
 * large, or a scan with no text layer; a Word file, an image, bytes that are not text) is reported
 * as unreadable: the classifier sends the item to review rather than guess that a letter nobody
 * could read is harmless.
 */
import { PROVENANCE_EXTENSION } from '../fhir/index.ts';
import { documentText, markupText } from './document-text.ts';
import { holdPdfAnswers, pdfText } from './pdf/extract.ts';

export interface ItemWords {
  texts: string[];
  /** why an attached document could not be read, one entry per such attachment */
  unreadable: string[];
}

const TEXT_KEYS = new Set([
  'title',
  'description',
  'text',
  'display',
  'comment',
  'conclusion',
  'valueString',
  'summary',
  'patientInstruction',
  'div',
  'name',
]);
/** the most of one attachment that is read (a letter is a few kilobytes) */
const MAX_ATTACHMENT = 256 * 1024;

function attachmentText(att: Record<string, unknown>, into: ItemWords): void {
  // a Signature's data is a signature, not a document
  if (typeof att.data !== 'string' || 'sigFormat' in att) return;
  const type = typeof att.contentType === 'string' ? att.contentType.toLowerCase() : '';
  if (isPdf(att, type)) {
    const read = pdfText(Buffer.from(att.data, 'base64'));
    if (!read.ok) into.unreadable.push(`PDF attachment ${read.reason}`);
    else if (read.text.trim() === '') into.unreadable.push('PDF attachment has no text layer (a scan)');
    else into.texts.push(read.text);
    return;
  }
  if (att.data === '') return;
  const read = documentText(
    Buffer.from(att.data.slice(0, Math.ceil((MAX_ATTACHMENT * 4) / 3)), 'base64'),
    type,
  );
  if ('text' in read) into.texts.push(read.text);
  else into.unreadable.push(read.unreadable);
}

/** "%PDF-" in base64 */
const PDF_MAGIC_BASE64 = 'JVBERi0';

/** feeds label PDFs application/octet-stream too: the bytes say what it is */
const isPdf = (att: Record<string, unknown>, type: string): att is { data: string } =>
  typeof att.data === 'string' && (type === 'application/pdf' || att.data.startsWith(PDF_MAGIC_BASE64));

/** Every object of a resource but Sharedcare's provenance extension, depth first. */
function eachObject(node: unknown, visit: (obj: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) eachObject(n, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (obj.url === PROVENANCE_EXTENSION) return;
  visit(obj);
  for (const key in obj) if (key !== 'meta' && key !== 'data') eachObject(obj[key], visit);
}

/**
 * Reads the PDF attachments of these resources without blocking, so that classifying them finds
 * the words already read: intake awaits this before its transaction, and calls the function it
 * returns once the transaction is over (the answers are held until then, holdPdfAnswers).
 */
export async function readPdfAttachments(resources: unknown[]): Promise<() => void> {
  const pdfs: Buffer[] = [];
  for (const r of resources)
    eachObject(r, (obj) => {
      const type = typeof obj.contentType === 'string' ? obj.contentType.toLowerCase() : '';
      if (isPdf(obj, type)) pdfs.push(Buffer.from(obj.data, 'base64'));
    });
  return holdPdfAnswers(pdfs);
}

export function itemWords(resource: unknown): ItemWords {
  const out: ItemWords = { texts: [], unreadable: [] };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (obj.url === PROVENANCE_EXTENSION) return;
    attachmentText(obj, out);
    for (const key in obj) {
      if (key === 'meta' || key === 'data') continue;
      const value = obj[key];
      if (typeof value === 'string') {
        if (TEXT_KEYS.has(key)) out.texts.push(key === 'div' ? markupText(value) : value);
      } else walk(value);
    }
  };
  walk(resource);
  return out;
}
