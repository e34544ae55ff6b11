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
});
