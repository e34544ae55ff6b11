/**
 * The words of an item, for the free-text screen: titles, descriptions, notes, the text and display
 * of codeable concepts, comments and conclusions, string values, the narrative, and attached
 * documents sent inline as text (text/plain, text/html, text/rtf…, base64). Sharedcare's own
 * provenance extension (the sending organisation's name) is not the item's content and is skipped,
 * so that intake and relabelling read the same words. PDF attachments are not read (no maintained
 * PDF text extractor is a dependency yet): their titles and the item's other words still are.
 */
import { PROVENANCE_EXTENSION } from '../fhir/index.ts';

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

function attachmentText(att: Record<string, unknown>): string | undefined {
  const type = typeof att.contentType === 'string' ? att.contentType.toLowerCase() : '';
  if (typeof att.data !== 'string' || !type.startsWith('text/')) return undefined;
  const text = Buffer.from(att.data.slice(0, Math.ceil((MAX_ATTACHMENT * 4) / 3)), 'base64').toString('utf8');
  return type.includes('html') || type.includes('xml') ? stripTags(text) : text;
}

const stripTags = (s: string) => s.replace(/<[^>]*>/g, ' ');

export function itemText(resource: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (obj.url === PROVENANCE_EXTENSION) return;
    const attached = attachmentText(obj);
    if (attached) out.push(attached);
    for (const key in obj) {
      if (key === 'meta' || key === 'data') continue;
      const value = obj[key];
      if (typeof value === 'string') {
        if (TEXT_KEYS.has(key)) out.push(key === 'div' ? stripTags(value) : value);
      } else walk(value);
    }
  };
  walk(resource);
  return out;
}
