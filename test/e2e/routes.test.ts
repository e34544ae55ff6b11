/**
 * The viewer's server side, in process: `/` sends clinicians to the viewer, its pages are never
 * cached and allow nothing from elsewhere, and the sources panel's endpoint needs a user token and
 * tells live feeds from batch ones with the time of their last delivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertOrganisation, upsertSource } from '../../src/region/index.ts';
import { bundle, patient } from '../fhir-data.ts';
import { postFhir } from '../http.ts';
import { startRegion, type TestRegion } from '../kit.ts';
import { ensureViewerBuilt } from './browser.ts';
import { NHS } from './fixtures.ts';

describe('viewer routes', () => {
  let r: TestRegion;
  beforeAll(async () => {
    await ensureViewerBuilt();
    r = await startRegion('pglite');
    await r.db.transaction(async (tx) => {
      await upsertOrganisation(tx, { ods: 'LA901', name: 'Council', kind: 'social-care', contributes: true });
      await upsertSource(tx, { id: 'council-cases', org: 'LA901', kind: 'batch' });
    });
    await postFhir(r, 'gp-riverside', bundle('batch', [patient('p1', NHS.main)]));
  }, 120_000);
  afterAll(() => r.drop());

  const get = async (url: string, token?: string) =>
    r.app.server.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('answers / with a page that says what it is (the viewer opens only through a launch)', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('Shared Care Record');
  });

  it('serves the record page and the launch page uncached, with a strict content security policy', async () => {
    for (const url of ['/viewer/', '/viewer/launch']) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    }
    expect((await get('/viewer/launch')).body).toContain('Opening the record');
  });

  it('gives the sources panel to signed-in users only', async () => {
    expect((await get('/viewer/api/sources')).statusCode).toBe(401);
    const res = await get('/viewer/api/sources', await r.userToken('dr.gp', 'Y90001'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { organisations } = res.json() as {
      organisations: {
        ods: string;
        kind: string | null;
        sources: { id: string; mode: string; lastReceivedAt: string | null }[];
      }[];
    };
    const byOds = new Map(organisations.map((o) => [o.ods, o]));
    expect(byOds.get('Y90001')!.sources).toEqual([
      expect.objectContaining({ id: 'gp-riverside', mode: 'live', lastReceivedAt: expect.any(String) }),
    ]);
    expect(byOds.get('LA901')!.sources).toEqual([
      expect.objectContaining({ id: 'council-cases', mode: 'batch', lastReceivedAt: null }),
    ]);
    expect(byOds.has('LAB01')).toBe(true); // contributes only: still a source of the record
  });

  it('shows the data set an organisation declared, and otherwise what its kind usually shares, saying which', async () => {
    const admin = await r.adminToken();
    const post = (payload: unknown) =>
      r.app.server.inject({
        method: 'POST',
        url: '/admin/organisations',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });
    const practice = { ods: 'Y90001', name: 'Riverside Surgery', kind: 'gp', contributes: true, views: true };
    const bad = await post({ ...practice, dataSet: { categories: [], from: '1 April 2019' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().problems).toEqual([
      { message: 'name at least one category of what is shared', expression: 'dataSet.categories' },
      { message: 'from is a date: YYYY-MM-DD', expression: 'dataSet.from' },
    ]);
    const declared = { categories: ['Problems', 'Medications', 'Allergies'], from: '2019-04-01' };
    expect((await post({ ...practice, dataSet: declared })).statusCode).toBe(201);
    // a later update that leaves the data set out keeps it
    expect((await post(practice)).statusCode).toBe(201);

    const res = await get('/viewer/api/sources', await r.userToken('dr.gp', 'Y90001'));
    const byOds = new Map(
      (res.json() as { organisations: { ods: string; dataSet: unknown }[] }).organisations.map((o) => [
        o.ods,
        o.dataSet,
      ]),
    );
    expect(byOds.get('Y90001')).toEqual({ ...declared, declared: true });
    expect(byOds.get('LA901')).toEqual({
      categories: ['Social care cases', 'Assessments and reviews', 'Care packages'],
      declared: false,
      from: null,
    });
  });
});
