import { describe, expect, it } from 'vitest';
import { composeLetter, renderPdf } from './letters.ts';

describe('letters', () => {
  const who = {
    nhsNumber: '9990000018',
    given: ['Ann'],
    family: "O'Neil (test)",
    birthDate: '1950-01-02',
    address: { line: ['1 High Street'], city: 'Northdale', postalCode: 'ND1 1AA' },
    phone: '07700 900000',
  };

  it('composes a plain-text letter naming the patient', () => {
    const text = composeLetter({
      from: 'Clinic',
      title: 'Clinic letter',
      date: '2024-01-01T09:00:00Z',
      who,
      body: ['Hello.'],
    });
    expect(text).toContain("Ann O'Neil (test)");
    expect(text).toContain('9990000018');
  });

  it('renders a PDF whose cross-reference table points at its objects', () => {
    const pdf = renderPdf('Line one\nA (bracketed) line');
    expect(pdf.startsWith('%PDF-1.4')).toBe(true);
    const xrefAt = Number(/startxref\n(\d+)/.exec(pdf)?.[1]);
    expect(pdf.slice(xrefAt, xrefAt + 4)).toBe('xref');
    const offsets = [...pdf.slice(xrefAt).matchAll(/(\d{10}) 00000 n/g)].map((m) => Number(m[1]));
    expect(offsets).toHaveLength(5);
    offsets.forEach((offset, i) => expect(pdf.slice(offset).startsWith(`${i + 1} 0 obj`)).toBe(true));
    expect(pdf).toContain('\\(bracketed\\)');
  });
});
