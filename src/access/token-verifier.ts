/**
 * Verifies bearer tokens from the identity providers a region trusts (OpenID Connect / JWT):
 * signature against the issuer's published keys (JWKS, fetched and cached by jose), issuer,
 * audience, expiry (required, and capped: checkLifetime) and not-before. Claims map to a Sharedcare user per issuer, including the NHS
 * Care Identity Service 2 shape. The development issuer is tried only when the config has a
 * development secret, which it never has in production mode.
 */
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { IdentityProviderConfig } from '../config/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { DEV_ISSUER, verifyDevToken } from './dev-issuer.ts';
import type { Principal } from './principal.ts';
import { SESSION_ISSUER, verifySessionToken } from './smart.ts';
import { VerifiedTokens } from './verified-tokens.ts';

type KeySet = ReturnType<typeof createRemoteJWKSet>;

function unauthenticated(reason: string): SharedcareError {
  return new SharedcareError('unauthenticated', reason);
}

function claim(payload: JWTPayload, path: string): unknown {
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

interface Cis2Role {
  person_roleid?: string;
  org_code?: string;
  role_code?: string;
}

/** CIS2: the selected role profile names the organisation and the role ("S8000:G8000:R8000"). */
function cis2Role(payload: JWTPayload): { org: string; role: string } | undefined {
  const selected = payload.selected_roleid;
  const roles = payload.nhsid_nrbac_roles as Cis2Role[] | undefined;
  const chosen = roles?.find((r) => r.person_roleid === selected);
  const role = chosen?.role_code?.split(':').pop();
  return chosen?.org_code && role ? { org: chosen.org_code, role } : undefined;
}

export function mapClaims(provider: IdentityProviderConfig, payload: JWTPayload): Principal {
  const c = provider.claims;
  const wantsSource =
    provider.for === 'sources' ||
    (provider.for === 'both' && claim(payload, c.org) === undefined && !payload.selected_roleid);
  if (wantsSource) {
    const source = claim(payload, c.source);
    if (typeof source !== 'string' || !source)
      throw unauthenticated(`token has no ${c.source} claim naming the source system`);
    return { kind: 'source', sourceId: source, issuer: provider.issuer };
  }
  const user = claim(payload, c.user);
  if (typeof user !== 'string' || !user)
    throw unauthenticated(`token has no ${c.user} claim naming the user`);
  const name = claim(payload, c.name);
  const postcode = claim(payload, c.postcode ?? 'address.postal_code');
  let org: unknown;
  let role: unknown;
  if (c.style === 'cis2') ({ org, role } = cis2Role(payload) ?? {});
  else [org, role] = [claim(payload, c.org), claim(payload, c.role)];
  if (typeof org !== 'string' || typeof role !== 'string') {
    throw unauthenticated(
      'token does not name the organisation and selected role (see the identity provider claim mapping)',
    );
  }
  return {
    kind: 'user',
    userId: user,
    org,
    role,
    issuer: provider.issuer,
    ...(typeof name === 'string' ? { name } : {}),
    ...(typeof postcode === 'string' && postcode.trim() ? { postcode: postcode.trim() } : {}),
  };
}

async function discoverJwks(issuer: string): Promise<URL> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`discovery failed for ${issuer}: ${res.status}`);
  const doc = (await res.json()) as { jwks_uri?: string; issuer?: string };
  if (!doc.jwks_uri) throw new Error(`discovery document of ${issuer} has no jwks_uri`);
  return new URL(doc.jwks_uri);
}

/** How far a provider's clock may run ahead of ours (iat in the future, exp and nbf). */
export const CLOCK_SKEW_SECONDS = 60;
/** A long clinical shift; user tokens normally last minutes to an hour or two. */
export const DEFAULT_MAX_TOKEN_LIFETIME_MINUTES = 12 * 60;

/**
 * A token must say when it expires, and may not be valid for longer than the provider's
 * maxTokenLifetimeMinutes (counted from iat, or from now when it has none); nor may it have been
 * issued in the future beyond the clock skew: a token that never expires, or is made to outlive
 * the sign-in it came from, is a stolen credential that never goes stale.
 */
function checkLifetime(provider: IdentityProviderConfig, payload: JWTPayload, nowSeconds: number): void {
  const { exp, iat } = payload;
  if (typeof exp !== 'number') throw unauthenticated('token has no exp (expiry) claim');
  if (iat !== undefined && (typeof iat !== 'number' || iat > nowSeconds + CLOCK_SKEW_SECONDS))
    throw unauthenticated('token rejected: iat claim is in the future');
  const from = typeof iat === 'number' ? Math.min(iat, nowSeconds) : nowSeconds;
  const max = provider.maxTokenLifetimeMinutes ?? DEFAULT_MAX_TOKEN_LIFETIME_MINUTES;
  if (exp - from > max * 60 + CLOCK_SKEW_SECONDS)
    throw unauthenticated(
      `token rejected: it is valid for longer than this provider's maximum of ${max} minutes`,
    );
}

export function createTokenVerifier(opts: {
  devSecret: string | undefined;
  sessionSecret?: string;
  providers: IdentityProviderConfig[];
  /** the clock tokens are checked against (tests inject one) */
  now?: () => Date;
}): (token: string) => Promise<Principal> {
  const now = opts.now ?? (() => new Date());
  const keySets = new Map<string, Promise<KeySet>>();
  const keysFor = (p: IdentityProviderConfig): Promise<KeySet> => {
    let ks = keySets.get(p.issuer);
    if (!ks) {
      ks = (p.jwksUri ? Promise.resolve(new URL(p.jwksUri)) : discoverJwks(p.issuer)).then((url) =>
        createRemoteJWKSet(url, { cacheMaxAge: 10 * 60_000 }),
      );
      ks.catch(() => keySets.delete(p.issuer));
      keySets.set(p.issuer, ks);
    }
    return ks;
  };

  const verified = new VerifiedTokens();
  const realClock = () => Date.now();
  const providerClock = () => now().getTime();

  return async (token) => {
    const known = verified.get(token);
    if (known) return known;
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw unauthenticated('the bearer token is not a JWT');
    }
    const iss = claims.iss;
    // the development and session issuers are checked by jose against the real clock, with no
    // tolerance; providers against the injected clock with CLOCK_SKEW_SECONDS
    if (iss === DEV_ISSUER) {
      const principal = await verifyDevToken(opts.devSecret, token);
      verified.remember(token, principal, claims.exp, 0, realClock);
      return principal;
    }
    if (iss === SESSION_ISSUER && opts.sessionSecret) {
      const principal = await verifySessionToken(opts.sessionSecret, token);
      verified.remember(token, principal, claims.exp, 0, realClock);
      return principal;
    }
    const principal = await verifyProviderToken(token, iss);
    verified.remember(token, principal, claims.exp, CLOCK_SKEW_SECONDS, providerClock);
    return principal;
  };

  async function verifyProviderToken(token: string, iss: string | undefined): Promise<Principal> {
    const provider = opts.providers.find((p) => p.issuer === iss);
    if (!provider) throw unauthenticated('the token’s issuer is not trusted by this region');
    let payload: JWTPayload;
    const at = now();
    try {
      ({ payload } = await jwtVerify(token, await keysFor(provider), {
        issuer: provider.issuer,
        audience: provider.audience,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
        requiredClaims: ['exp'],
        currentDate: at,
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed)
        throw unauthenticated(`token rejected: ${err.claim} claim is not acceptable`);
      if (
        err instanceof joseErrors.JWKSNoMatchingKey ||
        err instanceof joseErrors.JWSSignatureVerificationFailed
      ) {
        throw unauthenticated('token signature does not match the issuer’s keys');
      }
      if (err instanceof joseErrors.JOSEError) throw unauthenticated(`token is not valid (${err.code})`);
      throw new SharedcareError(
        'audit-unavailable',
        'the identity provider’s keys could not be fetched; try again shortly',
      );
    }
    checkLifetime(provider, payload, Math.floor(at.getTime() / 1000));
    return mapClaims(provider, payload);
  }
}
