/**
 * Requests refused before the gate (no token, a token that does not verify, a source system's
 * token on a read, a role that may not) are in the audit trail, in the hash chain, and the DPO can
 * list them; a flood of them writes a bounded number of events, however many requests arrive.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { refusalRecorder, verifyAuditChain, type RefusedRequest } from '../src/audit/index.ts';
import { DB_KINDS, freshDatabase, startRegion, type TestDatabase, type TestRegion } from './kit.ts';
import { bundle, NHS_A, patient } from './fhir-data.ts';
import { listRoutes, personIdFor, postFhir } from './http.ts';

interface Refusal {
  seq: string;
  user_id: string | null;
  person_id: string | null;
  e: {
    query?: string;
    reasons?: string[];
    detail?: string;
    network?: string;
    client?: string;
    count?: number;
    user?: { id: string };
  };
  text: string;
}

async function refusalsSince(db: { query: TestRegion['db']['query'] }, seq = '0'): Promise<Refusal[]> {
  const { rows } = await db.query<{
    seq: string;
    user_id: string | null;
    person_id: string | null;
    event: string;
  }>(
    `SELECT seq::text AS seq, user_id, person_id::text AS person_id, event FROM audit_event
     WHERE action = 'request.refused' AND seq > $1 ORDER BY seq`,
    [seq],
  );
  return rows.map(({ event, ...x }) => ({ ...x, e: JSON.parse(event) as Refusal['e'], text: event }));
}

const lastSeq = async (db: { query: TestRegion['db']['query'] }) =>
  (await db.query<{ s: string }>('SELECT coalesce(max(seq), 0)::text AS s FROM audit_event')).rows[0]!.s;

describe.each(DB_KINDS)('requests refused before the gate, on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  let dpo: string;
  beforeAll(async () => {
    r = await startRegion(kind);
    await postFhir(r, 'gp-riverside', bundle('batch', [patient('rr-1', NHS_A)]));
    personId = await personIdFor(r, NHS_A);
    dpo = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dpo.one',
      org: 'Y90001',
      role: 'sharedcare-dpo',
    });
    // the server's recorder on a clock that stands still: one window until flushed
    const clock = new Date('2026-01-05T10:00:30Z');
    r.app.services.refusals = refusalRecorder(r.app.services.db, { now: () => clock });
  });
  afterAll(async () => r.drop());

  const send = (
    method: string,
    url: string,
    headers: Record<string, string> = {},
    remoteAddress = '127.0.0.1',
  ) =>
    r.app.server.inject({
      method: method as 'GET',
      url,
      remoteAddress,
      headers: { 'content-type': 'application/json', ...headers },
      ...(method !== 'GET' ? { payload: '{}' } : {}),
    });

  it('records a request with no token on every route for users, each naming the route and the address', async () => {
    const routes = (await listRoutes(r)).filter(
      (x) => /^\w+ \/(fhir\/|launch$|viewer\/api\/|admin\/|dpo\/)/.test(x) && !/metadata|well-known/.test(x),
    );
    expect(routes.length).toBeGreaterThan(15);
    const before = await lastSeq(r.db);
    for (const route of routes) {
      const [method, pattern] = route.split(' ') as [string, string];
      const url = pattern.replace(':type', 'Condition').replace(/:id/g, personId);
      const res = await send(method, `${url}${url.includes('Consent') ? `?patient=${personId}` : ''}`);
      expect(res.statusCode, route).toBe(401);
    }
    const got = await refusalsSince(r.db, before);
    expect(got.map((x) => x.e.query).sort()).toEqual([...routes].sort());
    for (const x of got) {
      expect(x.e).toMatchObject({ reasons: ['no-token'], network: '127.0.0.1', count: 1 });
      expect(x.e.detail).toMatch(/^unauthenticated: a bearer token is required/);
      expect([x.user_id, x.person_id]).toEqual([null, null]);
      // the URL's ids are not in the event: only the route's pattern
      expect(x.text).not.toContain(personId);
    }
  });

  it('records a token that does not verify as unauthenticated, with its subject marked unverified, never the token', async () => {
    const forged = await new SignJWT({ kind: 'user', org: 'Y90001', role: 'R8000' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('urn:sharedcare:dev-issuer')
      .setAudience('sharedcare')
      .setSubject('dr.mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not the secret at all, but long enough'));
    const expired = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dr.late',
      org: 'Y90001',
      role: 'R8000',
      ttlSeconds: -60,
    });
    const before = await lastSeq(r.db);
    const cases: [string, string][] = [
      [forged, `/fhir/Patient/${personId}/$everything`],
      [expired, `/fhir/Patient/${personId}`],
      ['not-a-jwt', `/fhir/Consent?patient=${personId}`],
    ];
    for (const [token, url] of cases)
      expect((await send('GET', url, { authorization: `Bearer ${token}` }, '10.1.1.1')).statusCode).toBe(401);
    const got = await refusalsSince(r.db, before);
    expect(got.map((x) => [x.e.query, x.e.reasons, x.user_id])).toEqual([
      ['GET /fhir/Patient/:id/$everything', ['token-invalid'], null],
      ['GET /fhir/Patient/:id', ['token-invalid'], null],
      ['GET /fhir/Consent', ['token-invalid'], null],
    ]);
    expect(got[0]!.e.detail).toMatch(/^unauthenticated: .*"dr\.mallory" \(unverified\)/);
    expect(got[1]!.e.detail).toMatch(/expired.*"dr\.late" \(unverified\)/);
    expect(got[2]!.e.detail).not.toMatch(/unverified/);
    for (const [i, x] of got.entries()) {
      expect(x.e.user).toBeUndefined();
      for (const part of cases[i]![0].split('.')) if (part.length > 8) expect(x.text).not.toContain(part);
    }
  });

  it('records a source system’s token on a read, and a role that may not, naming the verified caller', async () => {
    const before = await lastSeq(r.db);
    const source = await r.sourceToken('gp-riverside');
    expect(
      (await send('GET', `/fhir/Patient/${personId}/$everything`, { authorization: `Bearer ${source}` }))
        .statusCode,
    ).toBe(403);
    const clinician = await r.userToken('dr.curious', 'Y90001');
    expect(
      (await send('GET', `/dpo/access-report?person=${NHS_A}`, { authorization: `Bearer ${clinician}` }))
        .statusCode,
    ).toBe(403);
    expect((await send('GET', '/admin/sources', { authorization: `Bearer ${clinician}` })).statusCode).toBe(
      403,
    );
    const got = await refusalsSince(r.db, before);
    expect(got.map((x) => [x.e.query, x.e.reasons, x.e.client, x.user_id])).toEqual([
      ['GET /fhir/Patient/:id/$everything', ['not-a-user'], 'source:gp-riverside', null],
      ['GET /dpo/access-report', ['role'], undefined, 'dr.curious'],
      ['GET /admin/sources', ['role'], undefined, 'dr.curious'],
    ]);
    // the staff member's report shows what they were refused
    const report = await send('GET', '/dpo/access-report?user=dr.curious', {
      authorization: `Bearer ${dpo}`,
    });
    expect((report.json() as { action: string }[]).map((x) => x.action)).toEqual([
      'request.refused',
      'request.refused',
    ]);
  });

  it('writes a flood from one address as one event and, when its window is over, one more with the count', async () => {
    const before = await lastSeq(r.db);
    for (let i = 0; i < 40; i++)
      expect((await send('GET', `/fhir/Condition?patient=${personId}`, {}, '10.6.6.6')).statusCode).toBe(401);
    expect((await refusalsSince(r.db, before)).length).toBe(1);
    await r.app.services.refusals.flush(true);
    const got = await refusalsSince(r.db, before);
    expect(got.map((x) => [x.e.query, x.e.network, x.e.count])).toEqual([
      ['GET /fhir/:type', '10.6.6.6', 1],
      ['GET /fhir/:type', '10.6.6.6', 39],
    ]);
  });

  it('lets the DPO list refused requests (JSON and FHIR AuditEvents), and the trail still verifies', async () => {
    const json = await send('GET', '/dpo/access-report?refused=true', { authorization: `Bearer ${dpo}` });
    expect(json.statusCode, json.body).toBe(200);
    const rows = json.json() as { action: string; reasons: string[] }[];
    expect(rows.length).toBeGreaterThan(20);
    expect(new Set(rows.map((x) => x.action))).toEqual(new Set(['request.refused']));
    const fhir = await send('GET', '/dpo/access-report?refused=true&_format=fhir', {
      authorization: `Bearer ${dpo}`,
    });
    const types = (fhir.json() as Bundle).entry!.map(
      (e) => (e.resource as { type: { code: string } }).type.code,
    );
    expect(new Set(types)).toEqual(new Set(['110114', '110113']));
    expect((await verifyAuditChain(r.db)).ok).toBe(true);
  });
});

describe.each(DB_KINDS)('the refusal recorder’s limits, on a clock of its own, on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase(kind);
  });
  afterAll(async () => t.drop());

  const refusal = (
    route: string,
    network = '10.0.0.1',
    extra: Partial<RefusedRequest> = {},
  ): RefusedRequest => ({
    route,
    reason: 'no-token',
    message: 'a bearer token is required',
    network,
    ...extra,
  });

  function recorder(maxPerWindow: number) {
    let now = Date.parse('2026-01-05T10:00:00Z');
    const errors: unknown[] = [];
    const rec = refusalRecorder(t.db, {
      limits: { windowSeconds: 60, maxPerWindow },
      now: () => new Date(now),
      onError: (e) => errors.push(e),
    });
    return { rec, errors, advance: (s: number) => (now += s * 1000) };
  }

  it('counts repeats in a window and writes the count when the window is over', async () => {
    const { rec, advance, errors } = recorder(10);
    const before = await lastSeq(t.db);
    for (let i = 0; i < 5; i++) await rec.record(refusal('GET /fhir/Patient/:id'));
    await rec.flush(); // the window is not over: nothing more yet
    expect((await refusalsSince(t.db, before)).map((x) => x.e.count)).toEqual([1]);
    advance(61);
    await rec.record(refusal('GET /fhir/Patient/:id'));
    const got = await refusalsSince(t.db, before);
    expect(got.map((x) => x.e.count)).toEqual([1, 4, 1]);
    expect(got[1]!.e.detail).toMatch(
      /4 more refused .* between 2026-01-05T10:00:00.000Z and 2026-01-05T10:01:00.000Z/,
    );
    expect(errors).toEqual([]);
  });

  it('caps what one window writes, however many addresses a flood comes from', async () => {
    const { rec, advance } = recorder(5);
    const before = await lastSeq(t.db);
    for (let i = 0; i < 300; i++) await rec.record(refusal('GET /fhir/:type', `10.2.${i >> 8}.${i & 255}`));
    expect((await refusalsSince(t.db, before)).length).toBe(5);
    advance(60);
    await rec.flush();
    const got = await refusalsSince(t.db, before);
    expect(got.length).toBe(6);
    expect(got[5]!.e).toMatchObject({ reasons: ['rate-capped', 'no-token'], count: 295 });
  });

  it('keeps only a plain identifier of an unverified subject', async () => {
    const { rec } = recorder(10);
    const before = await lastSeq(t.db);
    await rec.record(
      refusal('GET /a', '10.3.0.1', { reason: 'token-invalid', unverifiedSubject: 'dr.ok@nhs.net' }),
    );
    await rec.record(
      refusal('GET /b', '10.3.0.1', {
        reason: 'token-invalid',
        unverifiedSubject: 'Alex Testperson 9990000018 <x>',
      }),
    );
    const got = await refusalsSince(t.db, before);
    expect(got[0]!.e.detail).toContain('"dr.ok@nhs.net" (unverified)');
    expect(got[1]!.text).not.toMatch(/Testperson|9990000018/);
  });
});
