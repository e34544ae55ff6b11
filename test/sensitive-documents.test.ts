/**
 * Documents in the shapes an outside pass sent (2026-12-07) that the never-shared screen did not
 * read: an attachment typed as RTF, XHTML, JSON, Word or nothing at all, text in UTF-16, and
 * markup that splits a word with a tag or writes it as character references; and documents marked
 * restricted by their own securityLabel or confidentiality rather than meta.security. Each was
 * served to the patient's GP in full. Now each is read for its words, or, when it cannot be, sent to review
 * like an unreadable PDF: either way withheld. Ordinary letters in the same shapes stay shown.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, letter, patient } from './fhir-data.ts';
import { everything, getAs, personIdFor, postFhir } from './http.ts';

const P = 'Patient/doc-shapes';
const NHS = '9990000913';
const SAID = 'Patient attended GUM clinic. HIV positive, on antiretroviral therapy.';

const utf16le = (s: string, bom: boolean) =>
  Buffer.concat([Buffer.from(bom ? [0xff, 0xfe] : []), Buffer.from(s, 'utf16le')]).toString('base64');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const doc = (id: string, contentType: string | undefined, data: string): Resource =>
  letter(id, P, { ...(contentType ? { contentType } : {}), data }, '2024-05-01T10:00:00Z');

/** local id → the document; every one must be withheld */
const WITHHELD: Resource[] = [
  doc('rtf', 'application/rtf', b64(`{\\rtf1\\ansi{\\fonttbl\\f0 Arial;}\\f0 ${SAID}\\par}`)),
  // the word split by a formatting group and an escaped letter
  doc('rtf-split', 'text/rtf', b64("{\\rtf1\\ansi Known H{\\b \\'49V} positive.\\par}")),
  doc('no-type', undefined, b64(SAID)),
  doc('octet', 'application/octet-stream', b64(SAID)),
  doc('xhtml', 'application/xhtml+xml', b64(`<html><body><p>H<b>IV</b> positive</p></body></html>`)),
  doc('json', 'application/json', b64(JSON.stringify({ note: SAID }))),
  doc('utf16-bom', 'text/plain; charset=utf-16', utf16le(SAID, true)),
  doc('utf16-bare', 'text/plain', utf16le(SAID, false)),
  doc('html-split', 'text/html', b64('<p>Known <span>H</span><span>IV</span> positive.</p>')),
  doc('html-entity', 'text/html', b64('<p>Known &#72;IV positive (&#x48;IV clinic).</p>')),
  // a Word file cannot be read for its words: to review, as a scanned PDF is
  doc(
    'word',
    'application/msword',
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 3, 0]).toString('base64'),
  ),
  {
    resourceType: 'DiagnosticReport',
    id: 'report-rtf',
    status: 'final',
    code: { text: 'Clinic report' },
    subject: { reference: P },
    effectiveDateTime: '2024-05-02',
    presentedForm: [{ contentType: 'application/rtf', data: b64(`{\\rtf1 ${SAID}}`) }],
  } as Resource,
  // restricted by the document's own label, not meta.security (the National Record Locator's shape)
  {
    ...doc('nrl-v', 'text/plain', b64('Clinic letter.')),
    securityLabel: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'V' }] },
    ],
  } as Resource,
  {
    ...doc('stu3-r', 'text/plain', b64('Clinic letter.')),
    securityLabel: [{ coding: [{ system: 'http://hl7.org/fhir/v3/Confidentiality', code: 'R' }] }],
  } as Resource,
  {
    resourceType: 'Composition',
    id: 'discharge-r',
    status: 'final',
    type: { text: 'Discharge summary' },
    subject: { reference: P },
    date: '2024-05-03T10:00:00Z',
    author: [{ display: 'Ward 3' }],
    title: 'Discharge summary',
    confidentiality: 'R',
  } as Resource,
  condition('narrative', P, HYPERTENSION, {
    text: {
      status: 'generated',
      div: '<div xmlns="http://www.w3.org/1999/xhtml">also <span>H</span>IV</div>',
    },
  }),
];

/** ordinary letters in the same shapes: shown */
const SHOWN: Resource[] = [
  doc(
    'ok-rtf',
    'application/rtf',
    b64('{\\rtf1\\ansi Sprained left ankle: rest, ice, review in two weeks.\\par}'),
  ),
  doc('ok-html', 'text/html', b64('<p>Blood <b>pressure</b></p><p>review: well controlled.</p>')),
  doc('ok-utf16', 'text/plain; charset=utf-16', utf16le('Annual review: well, no change.', true)),
  doc('ok-no-type', undefined, b64('Seen in clinic for a routine knee review.')),
];

describe.each(DB_KINDS)('documents the text screen must read, on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  let token: string;

  beforeAll(async () => {
    r = await startRegion(kind);
    const res = await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('doc-shapes', NHS), ...WITHHELD, ...SHOWN]),
    );
    expect(res.status, res.text).toBe(200);
    personId = await personIdFor(r, NHS);
    token = await r.userToken('dr.docs', 'Y90001');
  });
  afterAll(async () => r?.drop());

  it('shows the ordinary letters and none of the others, in the record and in a section search', async () => {
    const { items } = await everything(r, personId, token);
    const localIds = (x: Resource[]) =>
      x.map((i) => JSON.stringify(i).match(/"sourceId","valueString":"\w+\/([\w-]+)"/)?.[1]).sort();
    expect(localIds(items)).toEqual(['ok-html', 'ok-no-type', 'ok-rtf', 'ok-utf16']);
    const search = await getAs<{ entry?: { resource: Resource }[] }>(
      r,
      token,
      `/fhir/DocumentReference?patient=${personId}`,
    );
    expect(search.status).toBe(200);
    expect(localIds((search.body.entry ?? []).map((e) => e.resource)).filter(Boolean)).toEqual([
      'ok-html',
      'ok-no-type',
      'ok-rtf',
      'ok-utf16',
    ]);
  });

  it('answers 404 for a withheld letter read by id', async () => {
    const stored = await r.db.query<{ id: string }>(
      `SELECT id FROM clinical_item WHERE resource_type = 'DocumentReference' AND source_local_id = 'rtf'`,
    );
    const res = await getAs(r, token, `/fhir/DocumentReference/${stored.rows[0]!.id}`);
    expect(res.status).toBe(404);
  });

  it('sends the Word file to review as unreadable, and reads the others', async () => {
    const { rows } = await r.db.query<{ source_local_id: string; sensitivity: string[] }>(
      `SELECT source_local_id, sensitivity FROM clinical_item WHERE source_local_id = ANY($1::text[])`,
      [['word', 'rtf-split', 'utf16-bare']],
    );
    const labels = Object.fromEntries(rows.map((x) => [x.source_local_id, x.sensitivity]));
    expect(labels.word).toEqual(['review:unreadable_document']);
    for (const id of ['rtf-split', 'utf16-bare']) {
      expect(labels[id]!.length).toBeGreaterThan(0);
      expect(labels[id]).not.toContain('review:unreadable_document');
    }
  });
});
