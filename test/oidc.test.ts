/**
 * Tokens from a real OpenID Connect provider (oidc-provider, the certified Node implementation),
 * running in the test as the region's identity provider: its JWKS is fetched over HTTP, its
 * JWT access tokens are verified, and NHS CIS2-shaped claims map to the user's organisation and
 * role. Forged, expired, unsigned, wrong-audience and wrong-issuer tokens are refused.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { personIdFor, postFhir } from './http.ts';

interface RunningIdp {
  issuer: string;
  server: Server;
  privateJwk: JWK;
  token(clientId: string, resource?: string): Promise<string>;
}

const SECRET = 'a-client-secret-that-is-long-enough-000000';

/** CIS2-shaped claims for the clinician using each clinical system. */
const USERS: Record<string, Record<string, unknown>> = {
  'riverside-gp-system': {
    uid: 'dr.patel',
    name: 'Dr Asha Patel',
    // OpenID Connect's standard address claim, which some providers release
    address: { street_address: '2 Park Lane', locality: 'Leeds', postal_code: 'LS1 4AP', country: 'GB' },
    selected_roleid: '555021935107',
    nhsid_nrbac_roles: [
      { person_roleid: '555021935106', org_code: 'RX1', role_code: 'S8000:G8000:R8001' },
      { person_roleid: '555021935107', org_code: 'Y90001', role_code: 'S8000:G8000:R8000' },
    ],
  },
};

async function startIdp(): Promise<RunningIdp> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = (client_id: string) => ({
    client_id,
    client_secret: SECRET,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  });
  const provider = new Provider(issuer, {
    clients: [client('riverside-gp-system'), client('northgate-pas')],
    jwks: { keys: [privateJwk] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://sharedcare.example',
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: 'patient/*.read',
          audience: resource === 'https://other.example' ? 'some-other-api' : 'sharedcare',
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx, token) => USERS[(token as { clientId?: string }).clientId ?? ''],
  });
  server.on('request', provider.callback());
  return {
    issuer,
    server,
    privateJwk,
    async token(clientId, resource = 'https://sharedcare.example') {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'patient/*.read', resource }),
      });
      const json = (await res.json()) as { access_token?: string; error_description?: string };
      if (!json.access_token) throw new Error(`no token: ${JSON.stringify(json)}`);
      return json.access_token;
    },
  };
}

describe('tokens from the region’s OpenID Connect provider', () => {
  let idp: RunningIdp;
  let other: RunningIdp;
  let r: TestRegion;
  let personId: string;
  let relativeId: string;

  beforeAll(async () => {
    idp = await startIdp();
    other = await startIdp();
    r = await startRegion(
      'pglite',
      {
        identityProviders: [
          {
            issuer: idp.issuer,
            audience: 'sharedcare',
            for: 'both',
            claims: {
              style: 'cis2',
              user: 'uid',
              name: 'name',
              org: 'org',
              role: 'role',
              source: 'client_id',
            },
          },
        ],
      },
      { clock: fixedClock() },
    );
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('oidc-1', '9990000204'),
        condition('oidc-c', 'Patient/oidc-1', HYPERTENSION),
        patient('oidc-2', '9990000336', {
          name: [{ family: 'Patel', given: ['Sunil'] }],
          address: [{ line: ['2 Park Lane'], city: 'Leeds', postalCode: 'LS14AP' }],
        }),
      ]),
    );
    personId = await personIdFor(r, '9990000204');
    relativeId = await personIdFor(r, '9990000336');
  });
  afterAll(async () => {
    await r.drop();
    idp.server.close();
    other.server.close();
  });

  const read = async (token: string) =>
    r.app.server.inject({
      url: `/fhir/Patient/${personId}/$everything`,
      headers: { authorization: `Bearer ${token}` },
    });

  it('accepts its JWT access token and maps the CIS2 selected role to organisation and role', async () => {
    const res = await read(await idp.token('riverside-gp-system'));
    expect(res.statusCode).toBe(200);
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE person_id = $1 AND action = 'record.open' ORDER BY seq DESC LIMIT 1`,
      [personId],
    );
    expect(JSON.parse(rows[0]!.event).user).toEqual({
      id: 'dr.patel',
      name: 'Dr Asha Patel',
      org: 'Y90001',
      role: 'R8000',
      issuer: idp.issuer,
    });
  });

  it('takes the user’s home postcode from the address claim for the same-surname-and-address alert, and never stores it', async () => {
    const res = await r.app.server.inject({
      url: `/fhir/Patient/${relativeId}/$everything`,
      headers: { authorization: `Bearer ${await idp.token('riverside-gp-system')}` },
    });
    expect(res.statusCode).toBe(200);
    const { rows } = await r.db.query<{ rule: string; summary: string }>(
      `SELECT rule, summary FROM audit_alert WHERE user_id = 'dr.patel' AND person_id = $1`,
      [relativeId],
    );
    expect(rows.map((a) => a.rule)).toEqual(['same-surname-address']);
    const events = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE user_id = 'dr.patel'`,
    );
    expect(events.rows.length).toBeGreaterThan(0);
    for (const { event } of events.rows) expect(event).not.toMatch(/LS1 ?4AP|postal|postcode/i);
  });

  it('does not let a user’s token send data as a source', async () => {
    const res = await r.app.server.inject({
      method: 'POST',
      url: '/ingest/fhir',
      headers: {
        authorization: `Bearer ${await idp.token('riverside-gp-system')}`,
        'content-type': 'application/fhir+json',
      },
      payload: JSON.stringify(bundle('batch', [patient('oidc-2', '9990000212')])),
    });
    expect(res.statusCode).toBe(403);
  });

  it('accepts a source system’s token from the same provider for intake', async () => {
    await r.db.query(
      `INSERT INTO source_system (id, org_ods, kind) VALUES ('northgate-pas', 'RX1', 'fhir') ON CONFLICT (id) DO NOTHING`,
    );
    const res = await r.app.server.inject({
      method: 'POST',
      url: '/ingest/fhir',
      headers: {
        authorization: `Bearer ${await idp.token('northgate-pas')}`,
        'content-type': 'application/fhir+json',
      },
      payload: JSON.stringify(bundle('batch', [patient('MRN-OIDC', '9990000204')])),
    });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    [
      'a token for another audience',
      async () => idp.token('riverside-gp-system', 'https://other.example'),
      /aud/,
    ],
    [
      'a token from an issuer the region does not trust',
      async () => other.token('riverside-gp-system'),
      /issuer is not trusted/,
    ],
    [
      'a forged token (right issuer, someone else’s key)',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT({ ...USERS['riverside-gp-system'] })
          .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
          .setIssuer(idp.issuer)
          .setAudience('sharedcare')
          .setExpirationTime('5m')
          .sign(privateKey);
      },
      /signature/,
    ],
    [
      'an expired token signed with the provider’s own key',
      async () => {
        const { importJWK } = await import('jose');
        const key = await importJWK(idp.privateJwk, 'RS256');
        return new SignJWT({ ...USERS['riverside-gp-system'] })
          .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
          .setIssuer(idp.issuer)
          .setAudience('sharedcare')
          .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
          .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
          .sign(key);
      },
      /expired/,
    ],
    [
      'an unsigned token (alg none)',
      async () => {
        const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${enc({ alg: 'none' })}.${enc({ iss: idp.issuer, aud: 'sharedcare', uid: 'x', exp: Math.floor(Date.now() / 1000) + 300 })}.`;
      },
      /not valid|signature/,
    ],
    ['something that is not a JWT', async () => 'not-a-token', /not a JWT/],
  ])('refuses %s with 401 and no data', async (_what, make, message) => {
    const res = await read(await make());
    expect(res.statusCode).toBe(401);
    const outcome = JSON.parse(res.body) as { resourceType: string; issue: { diagnostics: string }[] };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]!.diagnostics).toMatch(message);
    expect(res.body).not.toContain('Testperson');
  });
});
