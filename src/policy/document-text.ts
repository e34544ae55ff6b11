/**
 * The words of a document a source sends inline (an attachment's bytes) or as markup (a narrative's
 * XHTML), for the never-shared text screen. What cannot be read as words is said to be unreadable,
 * never taken as harmless: the classifier sends the item to review (src/policy/item-text.ts).
 *
 * Markup is read as a person reads it: a tag inside a word does not split it (`H<b>IV</b>` is
 * "HIV"), a block tag does, and character references are decoded (`&#72;IV`). RTF is read for its
 * text: control words dropped, `\'hh` and `\uN` decoded.
 */
import { decodeHTML } from 'entities';

/** The text of an attachment's bytes, or why it cannot be read as text. */
export type DocumentText = { text: string } | { unreadable: string };

/** Tags that do not end a word where they stand (HTML's phrasing elements). */
const INLINE_TAGS = new Set([
  'a',
  'abbr',
  'b',
  'bdi',
  'bdo',
  'big',
  'cite',
  'code',
  'data',
  'del',
  'dfn',
  'em',
  'font',
  'i',
  'ins',
  'kbd',
  'mark',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'time',
  'tt',
  'u',
  'var',
  'wbr',
]);

const TAG = /<\s*\/?\s*([A-Za-z][\w:-]*)?[^>]*>/g;
const DROPPED = /<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>|<!--[\s\S]*?-->/gi;

/** The words of HTML or XML as a reader sees them: inline tags joined, block tags spaced, entities decoded. */
export function markupText(markup: string): string {
  const text = markup.replace(DROPPED, ' ').replace(TAG, (_, name: string | undefined) => {
    const local = name?.toLowerCase().split(':').pop() ?? '';
    return INLINE_TAGS.has(local) ? '' : ' ';
  });
  return decodeHTML(text);
}

/**
 * RTF's text, hand-written: the npm RTF readers build a whole document model (fonts, styles,
 * paragraphs) for rendering, and the few that exist are unmaintained; the screen needs only the
 * words. Groups are not interpreted: a font table's names are read as words too, which at worst
 * sends a letter to review.
 */
export function rtfText(rtf: string): string {
  let out = '';
  for (let i = 0; i < rtf.length; i++) {
    const c = rtf[i]!;
    if (c === '{' || c === '}' || c === '\r' || c === '\n') continue;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = rtf[i + 1];
    if (next === undefined) break;
    if (next === '\\' || next === '{' || next === '}') {
      out += next;
      i++;
    } else if (next === "'") {
      out += String.fromCharCode(parseInt(rtf.slice(i + 2, i + 4), 16) || 32);
      i += 3;
    } else if (/[a-zA-Z]/.test(next)) {
      const m = /^([a-zA-Z]{1,32})(-?\d{1,10})? ?/.exec(rtf.slice(i + 1, i + 48))!;
      const [whole, word, arg] = m;
      if (word === 'u' && arg !== undefined) {
        const code = Number(arg);
        out += String.fromCharCode(code < 0 ? code + 65536 : code);
        // the ANSI stand-in that follows a \u character (one, by default)
        if (rtf[i + 1 + whole.length] !== '\\') i++;
      } else if (word === 'par' || word === 'line' || word === 'tab' || word === 'cell' || word === 'row') {
        out += ' ';
      }
      i += whole.length;
    } else {
      // a control symbol (\~ non-breaking space, \- optional hyphen, \* a destination)
      if (next === '~') out += ' ';
      i++;
    }
  }
  return out;
}

const BOMS: [number[], string][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

function decode(bytes: Buffer, charset: string | undefined): string | undefined {
  let encoding = charset ?? 'utf-8';
  let start = 0;
  for (const [bom, name] of BOMS)
    if (bom.every((b, k) => bytes[k] === b)) {
      encoding = name;
      start = bom.length;
      break;
    }
  // "utf-16" without a byte-order mark is big-endian (RFC 2781); TextDecoder reads it as little
  if (encoding === 'utf-16' && start === 0) encoding = 'utf-16be';
  try {
    return new TextDecoder(encoding).decode(bytes.subarray(start));
  } catch {
    return undefined; // an encoding TextDecoder does not know
  }
}

function utf16(bytes: Buffer): string | undefined {
  let even = 0;
  let odd = 0;
  for (let i = 0; i < Math.min(bytes.length, 4096); i++) {
    if (bytes[i] !== 0) continue;
    if (i % 2) odd++;
    else even++;
  }
  const half = Math.min(bytes.length, 4096) / 2;
  if (odd > half * 0.5 && even < half * 0.1) return new TextDecoder('utf-16le').decode(bytes);
  if (even > half * 0.5 && odd < half * 0.1) return new TextDecoder('utf-16be').decode(bytes);
  return undefined;
}

/** Whether decoded text looks like words rather than a binary file read as text. */
function looksLikeText(text: string): boolean {
  if (text.length === 0) return true;
  let odd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || (c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12)) odd++;
  }
  return odd / text.length < 0.02;
}

const MARKUP_TYPES = /html|xml/;
const RTF_MAGIC = '{\\rtf';

/**
 * The text of an attachment's bytes, by what its content type says and, where that says nothing a
 * reader could use (none, application/octet-stream), by what the bytes are. A PDF is not read here
 * (src/policy/pdf). Anything else (a Word file, an image, an archive) is unreadable.
 */
export function documentText(bytes: Buffer, contentType: string): DocumentText {
  const [mime = '', ...params] = contentType.toLowerCase().split(';');
  const type = mime.trim();
  const charset = params
    .map((p) => /^\s*charset\s*=\s*"?([^";\s]+)"?/.exec(p)?.[1])
    .find((c) => c !== undefined);
  const named = type !== '' && type !== 'application/octet-stream' && type !== 'binary/octet-stream';
  const textual =
    type.startsWith('text/') ||
    MARKUP_TYPES.test(type) ||
    /(^|[/+])(json|rtf)$/.test(type) ||
    type === 'application/x-rtf';
  if (named && !textual) return { unreadable: `attachment of type ${type} cannot be read for its words` };
  let text = decode(bytes, charset);
  if (text === undefined) return { unreadable: `attachment in ${charset} cannot be decoded` };
  // UTF-16 sent without a charset or a byte-order mark: every other byte is zero
  if (!looksLikeText(text) && charset === undefined) text = utf16(bytes) ?? text;
  if (!looksLikeText(text))
    return { unreadable: `attachment ${type ? `of type ${type} ` : 'with no type '}is not text` };
  if (text.trimStart().startsWith(RTF_MAGIC) || type.endsWith('rtf')) return { text: rtfText(text) };
  if (MARKUP_TYPES.test(type) || (!named && /^\s*</.test(text))) return { text: markupText(text) };
  return { text };
}
