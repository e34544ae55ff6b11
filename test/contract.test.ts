/**
 * The HTTP contract says what it does: readiness means "can serve a governed read now", the record
 * is read-only (writes on /fhir answer 405, not 404), and a source sends data only while its
 * organisation contributes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, freshDatabase, startRegion, testConfig, type DbKind, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { postFhir } from './http.ts';
import { createApp } from '../src/app.ts';

type Ready = { status: string; database: string; reason?: string };

async function ready(r: { app: TestRegion['app'] }): Promise<{ status: number; body: Ready }> {
  const res = await r.app.server.inject({ method: 'GET', url: '/ready' });
  return { status: res.statusCode, body: JSON.parse(res.body) as Ready };
}

describe.each(DB_KINDS)('GET /ready on %s', (kind: DbKind) => {
  // one region, its database broken and mended in turn; closed last
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r.drop().catch(() => undefined));

  it('is 200 when the database answers, the schema is current and the audit trail takes a write', async () => {
    const count = async () =>
      (await r.db.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_event')).rows[0]!.n;
    const before = await count();
    const res = await ready(r);
    expect(res).toMatchObject({ status: 200, body: { status: 'ready', database: kind } });
    expect(await count()).toBe(before); // the probe leaves nothing in the trail
  });

  it.runIf(kind === 'postgres')('is 200 as the application role that cannot change the trail', async () => {
    const fresh = await freshDatabase(kind);
    const config = testConfig();
    const app = await createApp(
      { ...config, audit: { ...config.audit, databaseRole: 'sharedcare_app' } },
      {
        db: fresh.db,
      },
    );
    try {
      expect(await ready({ app })).toMatchObject({ status: 200, body: { status: 'ready' } });
    } finally {
      await app.close();
      await fresh.drop();
    }
  });

  it('is 503 naming the reason when a migration has not been applied', async () => {
    const { rows } = await r.db.query<{ name: string }>(
      `DELETE FROM schema_migration WHERE name = (SELECT max(name) FROM schema_migration) RETURNING name`,
    );
    try {
      const res = await ready(r);
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('not ready');
      expect(res.body.reason).toMatch(/migration.*not applied/);
    } finally {
      await r.db.query('INSERT INTO schema_migration (name) VALUES ($1)', [rows[0]!.name]);
    }
    expect((await ready(r)).status).toBe(200);
  });

  it('is 503 naming the reason when the audit trail cannot be written', async () => {
    await r.db.query(`UPDATE audit_chain_head SET chain = chain + 100`);
    try {
      const res = await ready(r);
      expect(res.status).toBe(503);
      expect(res.body.reason).toMatch(/audit trail/);
    } finally {
      await r.db.query(`UPDATE audit_chain_head SET chain = chain - 100`);
    }
    expect((await ready(r)).status).toBe(200);
  });

  it('is 503 naming the reason when the database is closed', async () => {
    await r.db.close();
    const res = await ready(r);
    expect(res.status).toBe(503);
    expect(res.body.reason).toMatch(/database/);
  });

  it('with the database gone, every kind of request answers 503 with retry-after, never 500', async () => {
    // (the database was closed by the test above) a DPO's report answered 500 in the soak
    const dpo = await r.userToken('dpo.one', 'Y90001', 'sharedcare-dpo');
    const gp = await r.userToken('dr.one', 'Y90001', 'R8000');
    for (const [url, token] of [
      ['/dpo/access-report?person=9990000018', dpo],
      ['/dpo/subject-access-report?person=9990000018', dpo],
      ['/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018', gp],
      ['/fhir/Patient/3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b/$everything', gp],
    ] as const) {
      const res = await r.app.server.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(503);
      expect(res.headers['retry-after'], url).toBe('1');
      expect(JSON.parse(res.body), url).toMatchObject({ resourceType: 'OperationOutcome' });
    }
  });
});

describe.each(DB_KINDS)('the record is read-only, on %s', (kind: DbKind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r.drop());

  const writes: [string, string][] = [
    ['POST', '/fhir'],
    ['POST', '/fhir/'],
    ['PUT', '/fhir'],
    ['POST', '/fhir/Condition'],
    ['PUT', '/fhir/Condition'],
    ['PATCH', '/fhir/Condition'],
    ['DELETE', '/fhir/Condition'],
    ['PUT', '/fhir/Condition/3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b'],
    ['PATCH', '/fhir/Condition/3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b'],
    ['DELETE', '/fhir/Condition/3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b'],
    ['POST', '/fhir/Patient'],
    ['PUT', '/fhir/Patient/3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b'],
    ['DELETE', '/fhir/Patient/3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b'],
    ['POST', '/fhir/Observation/3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b'],
    ['DELETE', '/fhir/Patient?identifier=x'],
  ];

  it.each(writes)('%s %s answers 405 with an OperationOutcome and an Allow header', async (method, url) => {
    const token = await r.userToken('dr.write', 'Y90001');
    const transaction = bundle('transaction', [patient('w1', '9990000018')]);
    const res = await r.app.server.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      ...(method === 'DELETE' ? {} : { payload: JSON.stringify(transaction) }),
    });
    expect(res.statusCode).toBe(405);
    expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(res.headers.allow).toMatch(/GET/);
    expect(res.headers.allow).not.toMatch(/PUT|PATCH|DELETE/);
    const body = JSON.parse(res.body) as {
      resourceType: string;
      issue: { code: string; diagnostics: string }[];
    };
    expect(body.resourceType).toBe('OperationOutcome');
    expect(body.issue[0]!.code).toBe('not-supported');
    expect(body.issue[0]!.diagnostics).toMatch(/read-only/);
    expect(body.issue[0]!.diagnostics).toMatch(/\/ingest\/fhir/);
  });

  it('answers 405 without a token too (nothing here is writable by anyone)', async () => {
    const res = await r.app.server.inject({ method: 'DELETE', url: '/fhir/Condition/abc' });
    expect(res.statusCode).toBe(405);
  });

  it('still serves reads and the break-glass operation', async () => {
    const metadata = await r.app.server.inject({ method: 'GET', url: '/fhir/metadata' });
    expect(metadata.statusCode).toBe(200);
    const bg = await r.app.server.inject({
      method: 'POST',
      url: '/fhir/Patient/3f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b/$break-glass',
      headers: { 'content-type': 'application/json' },
      payload: '{"reason":"emergency-care"}',
    });
    expect(bg.statusCode).toBe(401);
  });
});

describe.each(DB_KINDS)('a source sends only while its organisation contributes, on %s', (kind: DbKind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r.drop());
  afterEach(async () => undefined);

  async function setOrg(contributes: boolean): Promise<number> {
    const res = await r.app.server.inject({
      method: 'POST',
      url: '/admin/organisations',
      headers: { authorization: `Bearer ${await r.adminToken()}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        ods: 'RX1',
        name: 'Northgate Hospital',
        kind: 'acute',
        contributes,
        views: true,
      }),
    });
    return res.statusCode;
  }

  it('refuses the next POST /ingest/fhir with 403 once the organisation is view-only, and stores nothing', async () => {
    const first = await postFhir(r, 'northgate-pas', bundle('transaction', [patient('vo1', '9990000026')]));
    expect(first.status).toBe(200);
    expect(await setOrg(false)).toBe(201);
    const rows = async () =>
      Number(
        (
          await r.db.query<{ n: string }>(
            'SELECT ((SELECT count(*) FROM clinical_item) + (SELECT count(*) FROM person_link))::text AS n',
          )
        ).rows[0]!.n,
      );
    const before = await rows();
    const res = await postFhir(
      r,
      'northgate-pas',
      bundle('transaction', [patient('vo2', '9990000034'), condition('vo-c', 'Patient/vo2', HYPERTENSION)]),
    );
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/RX1.*does not contribute/);
    expect(await rows()).toBe(before);
    // switched back, the same source is accepted again
    expect(await setOrg(true)).toBe(201);
    expect(
      (await postFhir(r, 'northgate-pas', bundle('transaction', [patient('vo2', '9990000034')]))).status,
    ).toBe(200);
  });
});
