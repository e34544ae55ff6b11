/**
 * Issue 12: the text of attached PDF documents is screened like any other words. The PDFs are
 * printed by a real browser (Debian's Chromium: subset TrueType fonts, compressed streams, a
 * ToUnicode map, as real letters are), not written by our own code. A termination-of-pregnancy
 * letter whose only tell is inside the PDF is withheld, over FHIR and over HL7 v2 (an ORU with the
 * report as an ED field); an ordinary renal clinic letter in PDF is shown; a PDF that cannot be
 * read (damaged, or a scan with no text) is withheld and queued for review with the reason.
 */
import type { Resource } from '@medplum/fhirtypes';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfText, pdfTextAsync } from '../src/policy/pdf/extract.ts';
import { upsertSource } from '../src/region/index.ts';
import { launchBrowser, NO_CHROMIUM_MESSAGE, SKIP_BROWSER_TESTS } from './e2e/browser.ts';
import { bundle, letter, patient } from './fhir-data.ts';
import { everything, personIdFor, postFhir, postHl7 as postHl7As } from './http.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

const P = 'Patient/pdf';
const NHS = '9990000123';
const HL7_SOURCE = 'northgate-hl7';
/** a real hospital's ORU with its report as a PDF that the sample itself truncated */
const TRUNCATED_SAMPLE = '../shared/fixtures/hl7v2/uk-nw-gmsa/NWGMSA__ORU_R01_PDF.hl7';

const LETTERS = {
  top: `<h1>Women's Health Clinic</h1><p>Dear Dr Patel,</p><p>Your patient attended today and a
    medical termination of pregnancy was carried out at 8 weeks. She was given follow-up advice.</p>
    <p>Yours sincerely, Dr A. Khan</p>`,
  renal: `<h1>Renal Clinic</h1><p>Dear Dr Patel,</p><p>Seen in the renal clinic today. Her eGFR is
    stable at 48 and the blood pressure is well controlled. We retrieved the old notes from the
    archive. Review in six months.</p><p>Yours sincerely, Dr B. Osei</p>`,
  // no words at all: an image only, as a scanned letter is
  scan: `<svg width="400" height="300"><rect width="400" height="300" fill="#ccc"/>
    <circle cx="200" cy="150" r="80" fill="#333"/></svg>`,
};

const letterRef = (id: string, pdf: Buffer): Resource =>
  letter(id, P, { contentType: 'application/pdf', data: pdf.toString('base64') });

describe.skipIf(SKIP_BROWSER_TESTS)('PDF attachments under the text screen', () => {
  const pdfs: Record<keyof typeof LETTERS, Buffer> = {} as never;

  beforeAll(async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      for (const [name, html] of Object.entries(LETTERS)) {
        await page.setContent(`<html><body>${html}</body></html>`);
        pdfs[name as keyof typeof LETTERS] = await page.pdf({ format: 'A4' });
      }
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('reads a letter ahead without blocking and gives the classifier the same answer', async () => {
    // a copy, so that no earlier read of these bytes answers from memory
    const letter = Buffer.concat([pdfs.top, Buffer.from('\n% read ahead\n')]);
    const [ahead, again] = await Promise.all([pdfTextAsync(letter), pdfTextAsync(letter)]);
    expect(ahead.ok && ahead.text).toMatch(/termination\s+of\s+pregnancy/);
    expect(again).toBe(ahead);
    // intake classifies synchronously afterwards: it must find this read, not read again
    expect(pdfText(letter)).toBe(ahead);
    const damaged = await pdfTextAsync(pdfs.renal.subarray(0, Math.floor(pdfs.renal.length / 2)));
    expect(damaged.ok).toBe(false);
    expect((await pdfTextAsync(Buffer.from('not a pdf at all'))).ok).toBe(false);
  });

  describe.each(DB_KINDS)('on %s', (kind) => {
    let r: TestRegion;
    let personId: string;
    const shownIds = async () =>
      (await everything(r, personId)).items.map((i) => (i.meta?.source ?? '') + i.resourceType);
    const reviewQueue = async () => {
      const res = await r.app.server.inject({
        method: 'GET',
        url: '/admin/sensitivity/review',
        headers: { authorization: `Bearer ${await r.adminToken()}` },
      });
      return JSON.parse(res.body) as {
        resourceType: string;
        matches: { rule: string; phrase: string; category: string }[];
      }[];
    };

    const postHl7 = (message: string) => postHl7As(r, HL7_SOURCE, message);

    beforeAll(async () => {
      r = await startRegion(kind);
      const res = await postFhir(
        r,
        'gp-riverside',
        bundle('batch', [
          patient('pdf', NHS),
          letterRef('top-letter', pdfs.top),
          letterRef('renal-letter', pdfs.renal),
          letterRef('scanned', pdfs.scan),
          letterRef('damaged', pdfs.renal.subarray(0, Math.floor(pdfs.renal.length / 2))),
        ]),
      );
      expect(res.status, res.text).toBe(200);
      personId = await personIdFor(r, NHS);
    });
    afterAll(async () => r?.drop());

    it('shows the ordinary PDF letter and withholds the one whose words are sensitive', async () => {
      const { items } = await everything(r, personId);
      const shown = items.map((i) => JSON.stringify(i));
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain(pdfs.renal.toString('base64').slice(0, 200));
    });

    it('queues the unreadable PDFs for review and says why, without guessing a category', async () => {
      const queued = await reviewQueue();
      const phrases = queued.flatMap((q) =>
        q.matches.filter((m) => m.rule === 'unreadable').map((m) => m.phrase),
      );
      expect(phrases.sort()).toEqual([
        'PDF attachment has no text layer (a scan)',
        'PDF attachment not a readable PDF',
      ]);
      // the termination letter is settled by the screen's own terms, not left as unreadable
      expect(queued.flatMap((q) => q.matches.map((m) => m.phrase.toLowerCase()))).toContain(
        'termination of pregnancy',
      );
    });

    it('withholds a report sent over HL7 v2 whose PDF holds the sensitive words', async () => {
      await upsertSource(r.db, { id: HL7_SOURCE, org: 'RX1', kind: 'hl7v2' });
      const oru = [
        `MSH|^~\\&|${HL7_SOURCE}|RX1|SHAREDCARE|REGION|20240601120000||ORU^R01^ORU_R01|PDF-1|P|2.4`,
        `PID|1||H555^^^RX1^MR~${NHS}^^^NHS^NH||TESTER^Pat||19900101|F`,
        'OBR|1|ORD-1|FIL-1|LETTER^Clinic letter^L|||20240601110000||||||||||||||||||F',
        `OBX|1|ED|LETTER^Clinic letter^L||^application^pdf^Base64^${pdfs.top.toString('base64')}||||||F`,
        `OBX|2|ED|LETTER^Clinic letter^L||^application^pdf^Base64^${pdfs.renal.toString('base64')}||||||F`,
      ].join('\r');
      expect(await postHl7(oru)).toContain('MSA|AA|PDF-1');
      const reports = (await everything(r, personId)).items.filter(
        (i) => i.resourceType === 'DiagnosticReport',
      );
      expect(reports).toEqual([]);
      expect(await shownIds()).toHaveLength(1);
    });

    it.skipIf(!existsSync(TRUNCATED_SAMPLE))(
      "sends a real hospital's truncated PDF report to review rather than showing it",
      async () => {
        const sample = readFileSync(TRUNCATED_SAMPLE, 'utf8').replace(/\r?\n/g, '\r');
        const ack = await postHl7(
          sample.replace(/^MSH\|\^~\\&\|[^|]*\|[^|]*\|/, `MSH|^~\\&|${HL7_SOURCE}|RX1|`),
        );
        expect(ack).toContain('MSA|AA');
        const queued = await reviewQueue();
        expect(
          queued.filter((q) => q.resourceType === 'DiagnosticReport').map((q) => q.matches[0]?.rule),
        ).toContain('unreadable');
      },
    );
  });
});

if (SKIP_BROWSER_TESTS) console.warn(NO_CHROMIUM_MESSAGE);

describe('the PDF reader thread', () => {
  it('does not keep a process alive once its reads are done', { timeout: 60_000 }, async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'sharedcare-pdf-exit-'));
    const script = path.join(dir, 'read.mts');
    const extract = new URL('../src/policy/pdf/extract.ts', import.meta.url).href;
    writeFileSync(
      script,
      `import { pdfTextAsync } from ${JSON.stringify(extract)};
const answer = await pdfTextAsync(Buffer.from('%PDF-1.4\\n1 0 obj<<>>endobj\\ntrailer<<>>\\n%%EOF'));
console.log('read', answer.ok);
`,
    );
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.stdout).toContain('read false');
      // killed by the timeout (a signal, no status) if the worker's port held the process open
      expect(run.signal).toBeNull();
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
