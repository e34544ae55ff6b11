import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { DEFAULT_SENSITIVE_CODES } from '../src/config/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { everything, personIdFor, postFhir } from './http.ts';

// Asthma: ordinary everywhere, until a region decides otherwise.
const ASTHMA = { system: 'http://snomed.info/sct', code: '195967001', display: 'Asthma' };

describe.each(DB_KINDS)('changing the never-shared lists on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r.drop());

  it('relabels items already stored when the server starts with different lists', async () => {
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('rl', '9990000174'),
        condition('rl-1', 'Patient/rl', ASTHMA),
        condition('rl-2', 'Patient/rl', HYPERTENSION),
      ]),
    );
    const id = await personIdFor(r, '9990000174');
    expect((await everything(r, id)).items).toHaveLength(2);

    const extra = path.join(mkdtempSync(path.join(os.tmpdir(), 'lists-')), 'extra.csv');
    writeFileSync(extra, 'category,system,code\nregional_exclusion,http://snomed.info/sct,195967001\n');
    const stricter = await createApp(
      { ...r.config, sensitiveCodeLists: [DEFAULT_SENSITIVE_CODES, extra] },
      { db: r.db },
    );
    try {
      const token = await r.userToken('dr', 'Y90001');
      const res = await stricter.server.inject({
        url: `/fhir/Patient/${id}/$everything`,
        headers: { authorization: `Bearer ${token}` },
      });
      const items = (
        JSON.parse(res.body) as {
          entry: { search: { mode: string }; resource: { code?: { coding?: { code: string }[] } } }[];
        }
      ).entry.filter((e) => e.search.mode === 'match');
      expect(items.map((e) => e.resource.code?.coding?.[0]?.code)).toEqual(['38341003']);
    } finally {
      await stricter.server.close();
    }
  });

  it('relabels an item stored before its document’s own security label was read, at the next start', async () => {
    const restricted = {
      resourceType: 'DocumentReference',
      id: 'rl-doc',
      status: 'current',
      subject: { reference: 'Patient/rl-doc-p' },
      securityLabel: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'V' }] },
      ],
      content: [
        { attachment: { contentType: 'text/plain', data: Buffer.from('Letter.').toString('base64') } },
      ],
    };
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('rl-doc-p', '9990000921'), restricted as never]),
    );
    const id = await personIdFor(r, '9990000921');
    expect((await everything(r, id)).items).toHaveLength(0);
    // as an older version stored it: the label in the body only, the item labelled by nothing
    await r.db.query(`UPDATE clinical_item SET security = '{}', sensitivity = '{}' WHERE person_id = $1`, [
      id,
    ]);
    await r.db.query(`UPDATE policy_state SET value = 'before' WHERE key = 'sensitive-codes-version'`);
    expect((await everything(r, id)).items).toHaveLength(1);
    const restarted = await createApp(r.config, { db: r.db });
    try {
      const token = await r.userToken('dr', 'Y90001');
      const res = await restarted.server.inject({
        url: `/fhir/Patient/${id}/$everything`,
        headers: { authorization: `Bearer ${token}` },
      });
      const entries = (JSON.parse(res.body) as { entry: { search: { mode: string } }[] }).entry;
      expect(entries.filter((e) => e.search.mode === 'match')).toHaveLength(0);
    } finally {
      await restarted.server.close();
    }
  });
});
