/**
 * Issue 12: what the free-text screen flags is withheld from everyone and queued for the
 * information-governance team, who see why (the matched words and rule) and confirm or release it;
 * the decision is remembered, audited (never naming the category), survives relabelling, and lasts
 * only as long as the flagged words do. Imported code lists relabel the store at once, without a
 * restart, and bad lists change nothing.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { everything, personIdFor, postFhir } from './http.ts';

const P = 'Patient/rev';
const NHS = '9990000034';

const note = (id: string, text: string): Resource =>
  ({
    resourceType: 'Condition',
    id,
    code: { text },
    subject: { reference: P },
    recordedDate: '2024-05-01',
  }) as Resource;

interface Review {
  itemId: string;
  status: string;
  matches: { phrase: string; rule: string; category: string }[];
}

describe.each(DB_KINDS)('the sensitivity review queue on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  const admin = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => {
    const res = await r.app.server.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${await r.adminToken()}`,
        ...(payload ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
    return { status: res.statusCode, body: JSON.parse(res.body || 'null') as unknown };
  };
  const shownText = async () => JSON.stringify((await everything(r, personId)).items);
  const queue = async (status = 'pending') =>
    (await admin('GET', `/admin/sensitivity/review?status=${status}`)).body as Review[];

  beforeAll(async () => {
    r = await startRegion(kind);
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('rev', NHS),
        condition('htn', P, HYPERTENSION),
        note('hiv-text', 'HIV positive'),
        note('archive', 'Letter retrieved from the archive'),
        note('aids', 'Needs hearing aids'),
        note('miscarriage', 'Spontaneous abortion at 8 weeks'),
        // depends on the flagged item: withheld with it, released with it
        {
          resourceType: 'Observation',
          id: 'bp',
          status: 'final',
          code: { text: 'Blood pressure' },
          subject: { reference: P },
          hasMember: [],
          derivedFrom: [{ reference: 'Condition/hiv-text' }],
          effectiveDateTime: '2024-05-01',
        } as Resource,
      ]),
    );
    personId = await personIdFor(r, NHS);
  });
  afterAll(async () => r?.drop());

  it('withholds the flagged item (and what depends on it) and shows the look-alikes', async () => {
    const text = await shownText();
    expect(text).not.toContain('HIV positive');
    expect(text).not.toContain('Blood pressure');
    for (const shown of ['archive', 'hearing aids', 'Spontaneous abortion', HYPERTENSION.code])
      expect(text).toContain(shown);
  });

  it('queues it for the IG team with the matched words and the rule', async () => {
    const q = await queue();
    expect(q).toHaveLength(1);
    expect(q[0]!.matches).toEqual([{ category: 'hiv_aids', phrase: 'HIV', rule: 'term' }]);
  });

  it('records the read of the queue in the access report of each person it lists', async () => {
    await queue();
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE action = 'sensitivity.review' AND person_id = $1
        ORDER BY seq DESC LIMIT 1`,
      [personId],
    );
    const event = JSON.parse(rows[0]!.event) as { detail: string; user: { id: string } };
    expect(event.detail).toBe('review queue read (pending)');
    expect(event.user.id).toBe('admin1');
  });

  it('refuses a decision that is not confirm or release, and readers, with problem details', async () => {
    const q = await queue();
    expect(
      (await admin('POST', `/admin/sensitivity/review/${q[0]!.itemId}`, { decision: 'maybe' })).status,
    ).toBe(400);
    expect(
      (await admin('POST', `/admin/sensitivity/review/not-a-uuid`, { decision: 'release' })).status,
    ).toBe(400);
    const res = await r.app.server.inject({
      method: 'GET',
      url: '/admin/sensitivity/review',
      headers: { authorization: `Bearer ${await r.userToken('dr.nosy', 'Y90001')}` },
    });
    expect(res.statusCode).toBe(403);
  });

  it('shows the item once released, remembers it across relabelling, and audits who decided', async () => {
    const [item] = await queue();
    const res = await admin('POST', `/admin/sensitivity/review/${item!.itemId}`, {
      decision: 'release',
      by: 'ig.lead',
      org: 'RX1',
    });
    expect(res.status).toBe(200);
    expect(await shownText()).toContain('HIV positive');
    expect(await shownText()).toContain('Blood pressure');
    expect(await queue()).toEqual([]);
    expect((await queue('released')).map((x) => x.itemId)).toEqual([item!.itemId]);

    // a different set of lists relabels the store at the next start: the decision holds
    const again = await createApp(
      { ...r.config, sensitiveCodeLists: r.config.sensitiveCodeLists.slice(1) },
      { db: r.db },
    );
    await again.server.close();
    expect(await shownText()).toContain('HIV positive');

    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE action = 'sensitivity.review' AND person_id = $1`,
      [personId],
    );
    // the decision, beside the reads of the queue (each audited too)
    const decisions = rows.filter((x) => !x.event.includes('review queue read'));
    expect(decisions).toHaveLength(1);
    expect(decisions[0]!.event).toContain('ig.lead');
    for (const x of rows) expect(x.event).not.toMatch(/hiv/i);
  });

  it('queues the item again when its flagged words change, and keeps it withheld once confirmed', async () => {
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('rev', NHS), note('hiv-text', 'HIV positive, on PrEP')]),
    );
    expect(await shownText()).not.toContain('HIV positive');
    const [item] = await queue();
    expect(item!.matches.map((m) => m.phrase)).toEqual(['HIV', 'PrEP']);
    await admin('POST', `/admin/sensitivity/review/${item!.itemId}`, { decision: 'confirm' });
    expect(await shownText()).not.toContain('HIV positive');
    // confirmed: withheld as sensitive, no longer pending
    await everything(r, personId);
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE action = 'record.open' AND person_id = $1 ORDER BY seq DESC LIMIT 1`,
      [personId],
    );
    const { reasons } = JSON.parse(rows[0]!.event) as { reasons: string[] };
    expect(reasons).toContain('withheld-sensitive');
    expect(reasons).not.toContain('withheld-pending-review');
  });

  it('puts an imported list in force at once (no restart), relabels, and refuses a mangled one whole', async () => {
    expect(await shownText()).toContain(HYPERTENSION.code);
    const bad = await admin('POST', '/admin/code-lists', {
      name: 'regional',
      codes: [
        { category: 'regional', system: 'http://snomed.info/sct', code: HYPERTENSION.code },
        { category: 'regional', system: 'http://snomed.info/sct', code: '1.03E+15' },
      ],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('1.03E+15');
    expect(await shownText()).toContain(HYPERTENSION.code);

    const ok = await admin('POST', '/admin/code-lists', {
      name: 'regional',
      version: '2',
      date: '2026-12-01',
      codes: [{ category: 'regional', system: 'SNOMED CT', code: HYPERTENSION.code }],
    });
    expect(ok.status).toBe(201);
    expect(await shownText()).not.toContain(HYPERTENSION.code);
    const lists = (await admin('GET', '/admin/code-lists')).body as {
      name: string;
      version: string;
      codeCount: number;
    }[];
    expect(lists).toEqual([expect.objectContaining({ name: 'regional', version: '2', codeCount: 1 })]);

    // and intake uses it at once
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('rev', NHS), condition('htn2', P, HYPERTENSION)]),
    );
    expect(await shownText()).not.toContain(HYPERTENSION.code);

    expect((await admin('DELETE', '/admin/code-lists/regional')).status).toBe(200);
    expect(await shownText()).toContain(HYPERTENSION.code);
  });
});
