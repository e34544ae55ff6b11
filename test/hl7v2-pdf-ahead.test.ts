/**
 * An HL7 v2 batch reads its messages' PDF attachments before its transaction opens. A letter can
 * take pdfjs seconds; read inside the transaction, it held a database connection and the batch's
 * patients' order locks for all that time. The screen still judges the letter by what was read.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from '../src/db/index.ts';
import { createHl7Intake } from '../src/ingest/index.ts';
import { getSource, upsertSource } from '../src/region/index.ts';
import { DB_KINDS, startRegion } from './kit.ts';

const SOURCE = 'rx1-pas';
const NHS = '9990001236';
/** starts like a PDF, is not one: pdfjs reads it and fails, so the screen sends the report to review */
const NOT_QUITE_A_PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n').toString(
  'base64',
);

const oru = (controlId: string) =>
  [
    `MSH|^~\\&|${SOURCE}|RX1|SHAREDCARE|REGION|20240601120000||ORU^R01^ORU_R01|${controlId}|P|2.4`,
    `PID|1||H777^^^RX1^MR~${NHS}^^^NHS^NH||TESTER^Pat||19900101|F`,
    'OBR|1|ORD-7|FIL-7|LETTER^Clinic letter^L|||20240601110000||||||||||||||||||F',
    `OBX|1|ED|LETTER^Clinic letter^L||^application^pdf^Base64^${NOT_QUITE_A_PDF}||||||F`,
  ].join('\r');

/** The database, counting the transactions open at each moment. */
function countingTransactions(db: Database): { db: Database; open: () => number } {
  let open = 0;
  const transaction: Database['transaction'] = async (fn) => {
    open++;
    try {
      return await db.transaction(fn);
    } finally {
      open--;
    }
  };
  return { db: { ...db, transaction }, open: () => open };
}

/** How many of these resources carry the test's attachment. */
const withAttachment = (resources: unknown[]) =>
  resources.filter((r) => JSON.stringify(r ?? null).includes(NOT_QUITE_A_PDF)).length;

describe.each(DB_KINDS)('an HL7 v2 message’s PDF on %s', (kind) => {
  it('is read before the transaction, and the report still goes to review', async () => {
    const r = await startRegion(kind);
    try {
      await upsertSource(r.db, { id: SOURCE, org: 'RX1', kind: 'hl7v2' });
      const source = (await getSource(r.db, SOURCE))!;
      const counted = countingTransactions(r.db);
      const reads: { open: number; resources: number; attachments: number }[] = [];
      const ingest = r.app.services.ingest;
      const intake = createHl7Intake({
        ingest: {
          ...ingest,
          db: counted.db,
          readAttachments: async (resources) => {
            reads.push({
              open: counted.open(),
              resources: resources.length,
              attachments: withAttachment(resources),
            });
            return ingest.readAttachments?.(resources);
          },
        },
        lanes: 1,
      });

      // a message without an embedded document is not mapped twice to look for one
      const admission = oru('PDF-AHEAD-0')
        .replace('ORU^R01^ORU_R01', 'ADT^A04^ADT_A01')
        .replace(/\rOBR.*$/s, '\rPV1|1|O|||||||||||||||||V-AHEAD');
      expect((await intake.receive(admission, source)).code).toBe('AA');
      expect(reads.map((x) => x.resources)).toEqual([0]);
      reads.length = 0;

      const outcome = await intake.receive(oru('PDF-AHEAD-1'), source);
      expect(outcome.code).toBe('AA');
      expect(reads.filter((x) => x.attachments > 0)).toHaveLength(1);
      expect(reads.map((x) => x.open)).toEqual(reads.map(() => 0));

      // the screen judged the letter as unreadable: the report waits for review, it is not shown
      const res = await r.app.server.inject({
        method: 'GET',
        url: '/admin/sensitivity/review',
        headers: { authorization: `Bearer ${await r.adminToken()}` },
      });
      const queued = JSON.parse(res.body) as { resourceType: string; matches: { rule: string }[] }[];
      expect(
        queued.filter((q) => q.resourceType === 'DiagnosticReport').map((q) => q.matches[0]?.rule),
      ).toEqual(['unreadable']);
    } finally {
      await r.drop();
    }
  });
});
