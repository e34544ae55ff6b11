/**
 * HL7 v2 messages written by others (../shared/fixtures/hl7v2: Microsoft's FHIR-Converter samples,
 * NHS ITK, Inhealthcare and North West genomics messages), sent as they are, each as a source of
 * its own (several share MSH-10). What each should get back is decided here from the files'
 * documented traits, not from our mapper: unsupported order messages AR; a month-13 birth date
 * and a truncated base64 PDF AE; everything else AA. Skips, saying so, where the folder is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertSource } from '../src/region/index.ts';
import { personIdFor } from './http.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

const FIXTURES = path.resolve(import.meta.dirname, '..', '../shared/fixtures/hl7v2');
const present = existsSync(FIXTURES);
if (!present)
  console.warn(`[sharedcare tests] HL7 v2 fixtures not found at ${FIXTURES}: their suite is skipped.`);

const EXPECTED: Record<string, 'AA' | 'AE' | 'AR'> = {
  'AlderHey__OMR_O01_Genetics_Rare_Disease.hl7': 'AR', // ORM^O01: an order, not part of a record
  'AlderHey__ORM_O01_DNA_Storage.hl7': 'AR',
  'ManchesterFoundationTrust__OML_O21_PDF.hl7': 'AR',
  'A31_example.hl7': 'AE', // PID-7 has month 13
  'ManchesterFoundationTrust__ORU_R01_PDF.hl7': 'AE', // the PDF is truncated ("JVBERi0x...")
};

const files = present
  ? readdirSync(FIXTURES).flatMap((dir) =>
      readdirSync(path.join(FIXTURES, dir))
        .filter((f) => f.endsWith('.hl7'))
        .map((f) => ({ dir, file: f })),
    )
  : [];

describe.skipIf(!present).each(DB_KINDS)('public HL7 v2 messages on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
    for (const [i] of files.entries()) await upsertSource(r.db, { id: `fx-${i}`, org: 'RX1', kind: 'hl7v2' });
  });
  afterAll(async () => r?.drop());

  it('answers each with the acknowledgement its content calls for', async () => {
    const outcomes: Record<string, string> = {};
    const errs: Record<string, string> = {};
    for (const [i, { dir, file }] of files.entries()) {
      const res = await r.app.server.inject({
        method: 'POST',
        url: '/ingest/hl7v2',
        headers: {
          authorization: `Bearer ${await r.sourceToken(`fx-${i}`)}`,
          'content-type': 'application/hl7-v2',
        },
        payload: readFileSync(path.join(FIXTURES, dir, file)),
      });
      expect(res.statusCode, file).toBe(200);
      const segments = res.body.split('\r');
      outcomes[file] = segments.find((s) => s.startsWith('MSA'))?.split('|')[1] ?? '';
      errs[file] = segments.filter((s) => s.startsWith('ERR')).join(' ');
    }
    const expected = Object.fromEntries(files.map(({ file }) => [file, EXPECTED[file] ?? 'AA']));
    expect(outcomes, JSON.stringify(errs, null, 1)).toEqual(expected);
    // the AE names the field: PID-7 for the impossible birth date
    expect(errs['A31_example.hl7']).toMatch(/PID\^1\^7/);
  });

  it('links by the NHS number however the message carries it', async () => {
    // PID-3 typed NH (ITK), PID-3 authority NHSNBR (v2.3), and written with spaces in PID-2/PID-19
    for (const nhs of ['3333333333', '6597923189', '9449305552'])
      expect(await personIdFor(r, nhs)).toBeTruthy();
  });
});
