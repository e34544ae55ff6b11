/**
 * Reads the text of a PDF letter so it can be shown in the page. The browser's own PDF viewer is
 * not used on purpose: it offers download and print buttons, and the shared record offers neither.
 * This handles the text PDFs that clinical systems produce (uncompressed or FlateDecode content
 * streams, text shown with Tj, TJ, ' and "); a scanned letter has no text and is reported as such.
 */

export interface PdfText {
  lines: string[];
  /** false when no readable text was found (a scan, or fonts this reader cannot decode) */
  readable: boolean;
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const latin1 = (bytes: Uint8Array) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
};

/** The content streams of the file, inflated where needed. */
async function streams(pdf: Uint8Array): Promise<string[]> {
  const text = latin1(pdf);
  const out: string[] = [];
  const re = /<<((?:[^<>]|<<(?:[^<>]|<<[^<>]*>>)*>>|<[^<>]*>)*)>>\s*stream\r?\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const dict = m[1] ?? '';
    const start = m.index + m[0].length;
    const lengthMatch = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(dict);
    let end = lengthMatch ? start + Number(lengthMatch[1]) : text.indexOf('endstream', start);
    if (end < start || end > text.length) end = text.indexOf('endstream', start);
    if (/\/Subtype\s*\/(Image|Type1C|CIDFontType0C)|\/Length1|\/Type\s*\/(XRef|ObjStm)/.test(dict)) continue;
    const raw = pdf.subarray(start, end);
    try {
      out.push(/\/FlateDecode/.test(dict) ? latin1(await inflate(raw)) : latin1(raw));
    } catch {
      // a stream we cannot inflate (another filter): skip it
    }
  }
  return out;
}

function readString(s: string, i: number): [string, number] {
  let depth = 1;
  let out = '';
  for (i++; i < s.length && depth > 0; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[++i] ?? '';
      const esc: Record<string, string> = { n: '\n', r: '', t: ' ', b: '', f: '', '\n': '', '\r': '' };
      if (/[0-7]/.test(n)) {
        const oct = /^[0-7]{1,3}/.exec(s.slice(i))![0];
        out += String.fromCharCode(parseInt(oct, 8));
        i += oct.length - 1;
      } else out += esc[n] ?? n;
    } else if (c === '(') {
      depth++;
      out += c;
    } else if (c === ')') {
      if (--depth > 0) out += c;
    } else out += c;
  }
  return [out, i];
}

/** Text-showing operators of one content stream, as lines. */
function textOf(content: string): string[] {
  const lines: string[] = [];
  let line = '';
  let pending: string[] = [];
  const newline = () => {
    lines.push(line);
    line = '';
  };
  for (let i = 0; i < content.length;) {
    const c = content[i]!;
    if (c === '(') {
      const [str, next] = readString(content, i);
      pending.push(str);
      i = next;
    } else if (c === '<' && content[i + 1] !== '<') {
      const end = content.indexOf('>', i);
      const hex = content.slice(i + 1, end).replace(/\s/g, '');
      pending.push(hex.replace(/(..)/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
      i = end + 1;
    } else if (c === '/') {
      i += /^\/[^\s/[\]()<>{}%]*/.exec(content.slice(i))![0].length; // a name: not an operator
    } else if (/[A-Za-z'"*]/.test(c)) {
      const op = /^[A-Za-z'"*]+/.exec(content.slice(i))![0];
      i += op.length;
      if (op === 'Tj' || op === 'TJ') line += pending.join('');
      else if (op === "'" || op === '"') {
        newline();
        line += pending.join('');
      } else if (op === 'T*' || op === 'ET') newline();
      else if (op === 'Td' || op === 'TD' || op === 'Tm') {
        if (line) newline();
      }
      pending = [];
    } else if (c === '[' || c === ']') i++;
    else i++;
  }
  if (line) lines.push(line);
  return lines;
}

export async function pdfText(pdf: Uint8Array): Promise<PdfText> {
  const contents = (await streams(pdf)).filter((s) => /\bBT\b/.test(s));
  const lines = contents.flatMap(textOf);
  // collapse the blank lines that ET/BT pairs leave, keeping paragraph breaks
  const tidy = lines
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l, i, all) => l !== '' || (i > 0 && all[i - 1] !== ''));
  while (tidy.at(-1) === '') tidy.pop();
  const chars = tidy.join('');
  const printable = chars.replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '').length;
  return { lines: tidy, readable: chars.length > 0 && printable / chars.length > 0.9 };
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
