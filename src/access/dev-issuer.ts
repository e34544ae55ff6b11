/**
 * The built-in development issuer: HS256 JWTs signed with a local secret, for demos and tests.
 * It exists only outside production mode (the config leaves the secret undefined there), so a
 * production server cannot accept a token anyone with the source code could mint.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { SharedcareError } from '../errors/index.ts';
import type { Principal } from './principal.ts';

export const DEV_ISSUER = 'urn:sharedcare:dev-issuer';
/** The organisation the command line acts at when a command names none (reads only). */
export const CLI_ORG = 'CLI';
export const AUDIENCE = 'sharedcare';

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export interface UserTokenRequest {
  user: string;
  org: string;
  role: string;
  name?: string;
  /** the user's home postcode, sent as OpenID Connect's address claim */
  postcode?: string;
  patient?: string;
  ttlSeconds?: number;
}

export async function mintUserToken(secret: string, req: UserTokenRequest): Promise<string> {
  return new SignJWT({
    kind: 'user',
    org: req.org,
    role: req.role,
    ...(req.name ? { name: req.name } : {}),
    ...(req.postcode ? { address: { postal_code: req.postcode } } : {}),
    ...(req.patient ? { patient: req.patient } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(req.user)
    .setIssuedAt()
    .setExpirationTime(`${req.ttlSeconds ?? 8 * 3600}s`)
    .sign(key(secret));
}

export async function mintSourceToken(
  secret: string,
  sourceId: string,
  ttlSeconds = 365 * 24 * 3600,
): Promise<string> {
  return new SignJWT({ kind: 'source' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(sourceId)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key(secret));
}

/** The postal code of an OpenID Connect address claim, as a principal's optional field. */
export function postcodeClaim(address: unknown): { postcode?: string } {
  const pc = (address as { postal_code?: unknown } | null | undefined)?.postal_code;
  return typeof pc === 'string' && pc.trim() ? { postcode: pc.trim() } : {};
}

function unauthenticated(reason: string): SharedcareError {
  return new SharedcareError('unauthenticated', reason);
}

/** Verifies a bearer token from the development issuer (signature, issuer, audience, expiry, nbf). */
export async function verifyDevToken(secret: string | undefined, token: string): Promise<Principal> {
  if (!secret) throw unauthenticated('the development issuer is not trusted in production mode');
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      issuer: DEV_ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
    });
    if (!payload.sub) throw unauthenticated('token has no subject');
    if (payload.kind === 'source') return { kind: 'source', sourceId: payload.sub, issuer: DEV_ISSUER };
    if (payload.kind === 'user' && typeof payload.org === 'string' && typeof payload.role === 'string') {
      return {
        kind: 'user',
        userId: payload.sub,
        org: payload.org,
        role: payload.role,
        issuer: DEV_ISSUER,
        ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
        ...postcodeClaim(payload.address),
        ...(typeof payload.patient === 'string' ? { patient: payload.patient } : {}),
      };
    }
    throw unauthenticated('token does not say whether it is for a user (with org and role) or a source');
  } catch (err) {
    if (err instanceof SharedcareError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw unauthenticated('token has expired');
    if (err instanceof joseErrors.JWTClaimValidationFailed)
      throw unauthenticated(`token rejected: ${err.claim} claim is not acceptable`);
    throw unauthenticated('token is not valid (bad signature, format or issuer)');
  }
}
