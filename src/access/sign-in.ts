/**
 * Signing administrators and the data protection officer in to Sharedcare itself (the SMART
 * standalone launch). Sharedcare is an OpenID Connect relying party of the region's identity
 * provider (openid-client does the protocol: discovery, PKCE, state, nonce, the ID token's
 * signature and claims); the claims map to a user exactly as bearer tokens from that provider do.
 * Clinicians are refused here: they open the record from their clinical system, in context.
 */
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { IdentityProviderConfig } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import type { UserPrincipal } from './principal.ts';
import { accessKindOf, type AccessKind } from './roles.ts';
import { forgetExpiredLogins, type AuthorizeRequest } from './smart.ts';
import { mapClaims } from './token-verifier.ts';

const SIGN_IN_MINUTES = 10;
/** the kinds of user who may sign in to Sharedcare itself */
const STANDALONE_KINDS: readonly AccessKind[] = ['admin', 'dpo'];

type SignInProvider = IdentityProviderConfig & { signIn: NonNullable<IdentityProviderConfig['signIn']> };

export function signInProvider(providers: IdentityProviderConfig[]): SignInProvider | undefined {
  return providers.find((p): p is SignInProvider => !!p.signIn && p.for !== 'sources');
}

const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

const discovered = new Map<string, Promise<oidc.Configuration>>();
function configurationOf(p: SignInProvider): Promise<oidc.Configuration> {
  let c = discovered.get(p.issuer);
  if (!c) {
    c = oidc.discovery(
      new URL(p.issuer),
      p.signIn.clientId,
      p.signIn.clientSecret,
      p.signIn.clientSecret ? undefined : oidc.None(),
      // plain http only for a provider on this machine (tests, a local development provider)
      isLoopback(p.issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
    c.catch(() => discovered.delete(p.issuer));
    discovered.set(p.issuer, c);
  }
  return c;
}

/** Keeps the app's request and sends the user to the identity provider; returns where to. */
export async function beginSignIn(
  q: Queryable,
  provider: SignInProvider,
  req: AuthorizeRequest,
  callbackUrl: string,
): Promise<string> {
  const config = await configurationOf(provider);
  const state = randomBytes(24).toString('base64url');
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  await forgetExpiredLogins(q);
  await q.query(
    `INSERT INTO smart_signin (state, issuer, request, code_verifier, nonce, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6))`,
    [state, provider.issuer, JSON.stringify(req), verifier, nonce, SIGN_IN_MINUTES],
  );
  return oidc
    .buildAuthorizationUrl(config, {
      redirect_uri: callbackUrl,
      scope: provider.signIn.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    .toString();
}

export type SignInResult =
  | { request: AuthorizeRequest; user: UserPrincipal }
  | { request: AuthorizeRequest; refused: SharedcareError };

/**
 * The identity provider sent the user back: checks everything, maps the claims, and allows only
 * administrators and the data protection officer. Throws only when the state is not one this
 * server started (there is no app to tell); otherwise returns the app's kept request with the
 * user, or with why they were refused, so that the app can be told (OAuth access_denied).
 */
export async function finishSignIn(
  q: Queryable,
  provider: SignInProvider,
  currentUrl: URL,
  roles: Record<string, AccessKind>,
): Promise<SignInResult> {
  const state = currentUrl.searchParams.get('state') ?? '';
  const { rows } = await q.query<{ request: string; code_verifier: string; nonce: string }>(
    `UPDATE smart_signin SET used_at = now() WHERE state = $1 AND issuer = $2 AND used_at IS NULL AND expires_at > now()
     RETURNING request, code_verifier, nonce`,
    [state, provider.issuer],
  );
  const kept = rows[0];
  if (!kept)
    throw new SharedcareError(
      'invalid-request',
      'the sign-in is unknown, expired or already used: start again',
    );
  const request = JSON.parse(kept.request) as AuthorizeRequest;
  try {
    return { request, user: await signedInUser(provider, currentUrl, state, kept, roles) };
  } catch (err) {
    if (err instanceof SharedcareError) return { request, refused: err };
    throw err;
  }
}

async function signedInUser(
  provider: SignInProvider,
  currentUrl: URL,
  state: string,
  kept: { code_verifier: string; nonce: string },
  roles: Record<string, AccessKind>,
): Promise<UserPrincipal> {
  const providerError = currentUrl.searchParams.get('error');
  if (providerError)
    throw new SharedcareError(
      'unauthenticated',
      `the identity provider did not sign you in (${providerError}${currentUrl.searchParams.get('error_description') ? `: ${currentUrl.searchParams.get('error_description')}` : ''})`,
    );
  let claims: Record<string, unknown>;
  try {
    const config = await configurationOf(provider);
    const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: kept.code_verifier,
      expectedState: state,
      expectedNonce: kept.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    // CIS2 and others put role claims in userinfo rather than the ID token
    const info = config.serverMetadata().userinfo_endpoint
      ? await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)
      : {};
    claims = { ...idClaims, ...info };
  } catch (err) {
    throw new SharedcareError(
      'unauthenticated',
      `signing in with ${provider.issuer} failed: ${(err as Error).message}`,
    );
  }
  const principal = mapClaims(provider, claims);
  if (principal.kind !== 'user') throw new SharedcareError('unauthenticated', 'that sign-in is not a user');
  const kind = accessKindOf(principal.role, roles);
  if (!kind || !STANDALONE_KINDS.includes(kind))
    throw new SharedcareError(
      'forbidden',
      "signing in to Sharedcare itself is for administrators and the data protection officer; clinicians open a person's record from their clinical system",
    );
  return principal;
}
