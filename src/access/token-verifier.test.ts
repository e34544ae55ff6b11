/**
 * Identity-provider tokens must carry exp, may not outlive the provider's maximum lifetime, and may
 * not be issued in the future (beyond a minute's clock skew). The provider's keys are served over
 * HTTP as a real JWKS; the clock is injected, so the tests are the same whenever they run.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityProviderConfig } from '../config/index.ts';
import { createTokenVerifier } from './token-verifier.ts';

const NOW = new Date('2026-03-02T10:00:00Z');
const T = NOW.getTime() / 1000;
const HOUR = 3600;

let server: Server;
let privateKey: CryptoKey;
let provider: IdentityProviderConfig;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] });
  server = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(jwks));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = {
    issuer: 'https://idp.example.nhs.uk',
    jwksUri: `${base}/jwks`,
    audience: 'sharedcare',
    for: 'users',
    claims: { style: 'simple', user: 'sub', name: 'name', org: 'org', role: 'role', source: 'client_id' },
  };
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function sign(claims: JWTPayload): Promise<string> {
  return new SignJWT({ sub: 'dr.jones', org: 'Y90001', role: 'R8000', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(provider.issuer)
    .setAudience('sharedcare')
    .sign(privateKey);
}

const verify = (token: string, p: Partial<IdentityProviderConfig> = {}) =>
  createTokenVerifier({ devSecret: undefined, providers: [{ ...provider, ...p }], now: () => NOW })(token);

describe('identity-provider token lifetime', () => {
  it.each([
    ['has no exp', { iat: T }, /\bexp\b/],
    ['is valid for 24 hours', { iat: T - 60, exp: T - 60 + 24 * HOUR }, /longer than .* 720 minutes/],
    ['has no iat and expires in 13 hours', { exp: T + 13 * HOUR }, /longer than/],
    ['was issued ten minutes from now', { iat: T + 600, exp: T + HOUR }, /iat claim is in the future/],
    ['expired an hour ago by the injected clock', { iat: T - 2 * HOUR, exp: T - HOUR }, /expired/],
  ])('refuses a token that %s', async (_what, claims, why) => {
    await expect(verify(await sign(claims))).rejects.toThrow(why);
  });

  it.each([
    ['an hour', { iat: T - 60, exp: T + HOUR }],
    ['11 hours, issued 30 seconds ahead of our clock', { iat: T + 30, exp: T + 30 + 11 * HOUR }],
    ['an hour, without iat', { exp: T + HOUR }],
  ])('accepts a token valid for %s', async (_what, claims) => {
    await expect(verify(await sign(claims))).resolves.toMatchObject({ kind: 'user', userId: 'dr.jones' });
  });

  it('caps the lifetime at the provider’s configured maximum', async () => {
    const token = await sign({ iat: T, exp: T + 2 * HOUR });
    await expect(verify(token)).resolves.toBeDefined();
    await expect(verify(token, { maxTokenLifetimeMinutes: 60 })).rejects.toThrow(/maximum of 60 minutes/);
  });
});

describe('tokens verified once are remembered only while they hold', () => {
  it('answers a token again after its expiry with "expired", not with the remembered user', async () => {
    let clock = NOW;
    const verifier = createTokenVerifier({ devSecret: undefined, providers: [provider], now: () => clock });
    const token = await sign({ iat: T - 60, exp: T + HOUR });
    await expect(verifier(token)).resolves.toMatchObject({ userId: 'dr.jones' });
    await expect(verifier(token)).resolves.toMatchObject({ userId: 'dr.jones' });
    // past exp and the minute's tolerance
    clock = new Date((T + HOUR + 61) * 1000);
    await expect(verifier(token)).rejects.toThrow(/expired/);
  });

  it('verifies in full a token whose signature differs from one it already accepted', async () => {
    const verifier = createTokenVerifier({ devSecret: undefined, providers: [provider], now: () => NOW });
    const token = await sign({ iat: T - 60, exp: T + HOUR });
    await expect(verifier(token)).resolves.toBeDefined();
    const [head, body, sig] = token.split('.') as [string, string, string];
    const flipped = `${head}.${body}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    await expect(verifier(flipped)).rejects.toThrow(/signature|not valid/);
    // and a forged body under the accepted signature (another organisation) is refused too
    const forgedBody = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), org: 'X99999' }),
    ).toString('base64url');
    await expect(verifier(`${head}.${forgedBody}.${sig}`)).rejects.toThrow(/signature|not valid/);
  });

  it('hands each caller the same user, which nobody can change for the next request', async () => {
    const verifier = createTokenVerifier({ devSecret: undefined, providers: [provider], now: () => NOW });
    const token = await sign({ iat: T - 60, exp: T + HOUR });
    await verifier(token);
    const again = await verifier(token);
    expect(() => {
      (again as { org: string }).org = 'X99999';
    }).toThrow(TypeError);
    await expect(verifier(token)).resolves.toMatchObject({ org: 'Y90001' });
  });
});
