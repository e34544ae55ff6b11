/**
 * Short clinical letters for DocumentReference and Composition content: plain text, and a few as a
 * minimal one-page PDF (hand-built: a PDF library would be far heavier than these thirty lines).
 */
import type { Attachment } from '@medplum/fhirtypes';
import type { SourceIdentity } from './identity.ts';

export interface LetterInput {
  from: string;
  to?: string;
  title: string;
  date: string;
  who: SourceIdentity;
  body: readonly string[];
}

export function composeLetter(letter: LetterInput): string {
  const { who } = letter;
  const name = `${who.given.join(' ')} ${who.family}`;
  const nhs = who.nhsNumber ? `NHS number: ${who.nhsNumber}` : 'NHS number: not recorded';
  const lines = [
    letter.from,
    letter.to ? `To: ${letter.to}` : undefined,
    `Date: ${letter.date.slice(0, 10)}`,
    '',
    letter.title.toUpperCase(),
    `Patient: ${name}, born ${who.birthDate}. ${nhs}`,
    `Address: ${who.address.line.join(', ')}, ${who.address.city} ${who.address.postalCode}`,
    '',
    ...letter.body,
    '',
    'This letter is synthetic test data and describes no real person.',
  ];
  return lines.filter((l): l is string => l !== undefined).join('\n');
}

function escapePdf(line: string): string {
  return line.replace(/[^\x20-\x7e]/g, '?').replace(/([\\()])/g, '\\$1');
}

/** A valid single-page PDF showing the text in Helvetica. */
export function renderPdf(text: string): string {
  const lines = text.split('\n').slice(0, 50);
  const content = `BT /F1 11 Tf 50 790 Td 14 TL ${lines.map((l) => `(${escapePdf(l)}) Tj T*`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) pdf += `${String(o).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return pdf;
}

export function attachLetter(letter: LetterInput, pdf: boolean): Attachment {
  const text = composeLetter(letter);
  const creation = letter.date;
  if (pdf) {
    const data = Buffer.from(renderPdf(text), 'latin1').toString('base64');
    return { contentType: 'application/pdf', data, title: `${letter.title}.pdf`, creation };
  }
  const data = Buffer.from(text, 'utf8').toString('base64');
  return { contentType: 'text/plain', language: 'en-GB', data, title: letter.title, creation };
}
