/**
 * SMART on FHIR EHR launch, with Sharedcare as the authorisation server for apps that read it.
 *
 * 1. The clinical system, signed in as its user, registers a launch context over the back channel
 *    (POST /launch with the user's bearer token and the patient's NHS number) and gets an opaque,
 *    single-use launch id valid for five minutes. The patient never appears in a URL.
 * 2. It opens the app with ?iss=<FHIR base>&launch=<id>; the app runs the standard SMART flow:
 *    /oauth/authorize (the launch id stands in for the user's sign-in) then /oauth/token (PKCE).
 * 3. The access token is a Sharedcare session token bound to that user and patient: the gate
 *    refuses it for anyone else's record, so opening another person needs another launch.
 */
import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { AUDIENCE, postcodeClaim } from './dev-issuer.ts';
import { isBoundElsewhere, type UserPrincipal } from './principal.ts';

export const SESSION_ISSUER = 'urn:sharedcare:session';
const LAUNCH_MINUTES = 5;
const CODE_SECONDS = 60;
export const SESSION_SECONDS = 3600;

export interface SmartClient {
  clientId: string;
  redirectUris: string[];
}

const id = () => randomBytes(24).toString('base64url');
const invalid = (message: string, expression?: string) =>
  new SharedcareError('invalid-request', message, [{ message, ...(expression ? { expression } : {}) }]);

/**
 * Launches, codes and sign-ins are needed for minutes, yet each names a user (and a launch, the
 * patient): they are forgotten an hour after they expire, whenever a new one is made. The audit
 * trail, not these tables, is the record of who opened what.
 */
export async function forgetExpiredLogins(q: Queryable): Promise<void> {
  const stale = `expires_at < now() - interval '1 hour'`;
  await q.query(
    `DELETE FROM smart_code WHERE ${stale} OR launch_id IN (SELECT id FROM smart_launch WHERE ${stale})`,
  );
  await q.query(`DELETE FROM smart_launch WHERE ${stale}`);
  await q.query(`DELETE FROM smart_signin WHERE ${stale}`);
}

/** The refusal for a session bound to one patient that asks to open another. */
export function boundElsewhereError(): SharedcareError {
  return new SharedcareError(
    'forbidden',
    'this session was opened for another patient: open this record from your clinical system',
  );
}

/**
 * Registers a launch for the user and the patient. A user whose session is already bound to a
 * patient (a bound token, a SMART session) may launch only that patient: the launch keeps the
 * binding, and the token exchange checks it again.
 */
export async function createLaunch(
  q: Queryable,
  user: UserPrincipal,
  nhsNumber: string,
): Promise<{ launch: string; expiresAt: string }> {
  if (isBoundElsewhere(user, nhsNumber)) throw boundElsewhereError();
  await forgetExpiredLogins(q);
  const launch = id();
  const now = new Date();
  const expiresAt = new Date(now.getTime() + LAUNCH_MINUTES * 60_000).toISOString();
  await q.query(
    'INSERT INTO smart_launch (id, principal, nhs_number, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [launch, JSON.stringify(user), nhsNumber, now.toISOString(), expiresAt],
  );
  return { launch, expiresAt };
}

export interface AuthorizeRequest {
  response_type?: string;
  client_id?: string;
  redirect_uri?: string;
  launch?: string;
  scope?: string;
  state?: string;
  aud?: string;
  code_challenge?: string;
  code_challenge_method?: string;
}

/** Checks what every authorisation request must get right; returns the registered client. */
export function checkAuthorizeRequest(
  req: AuthorizeRequest,
  clients: SmartClient[],
  fhirBase: string,
): SmartClient {
  const client = clients.find((c) => c.clientId === req.client_id);
  if (!client) throw invalid('unknown client_id', 'client_id');
  if (!req.redirect_uri || !client.redirectUris.includes(req.redirect_uri))
    throw invalid('redirect_uri is not registered for this client', 'redirect_uri');
  if (req.response_type !== 'code') throw invalid('response_type must be code', 'response_type');
  if (req.aud !== fhirBase) throw invalid(`aud must be ${fhirBase}`, 'aud');
  // SMART App Launch 2: every app proves with PKCE that it is the one that asked (a code seen in
  // a redirect, a log or a browser's history is useless without the verifier)
  if (!req.code_challenge) throw invalid('code_challenge is required (PKCE with S256)', 'code_challenge');
  if (req.code_challenge_method !== 'S256')
    throw invalid('code_challenge_method must be S256', 'code_challenge_method');
  return client;
}

/** EHR launch: checks the request and the launch id, and issues a code; throws with what is wrong. */
export async function authorize(
  q: Queryable,
  req: AuthorizeRequest,
  clients: SmartClient[],
  fhirBase: string,
): Promise<{ redirect: string }> {
  const client = checkAuthorizeRequest(req, clients, fhirBase);
  if (!req.launch) throw invalid('launch is required: open the record from the clinical system', 'launch');
  const { rows } = await q.query<{ id: string }>(
    `UPDATE smart_launch SET used_at = now() WHERE id = $1 AND used_at IS NULL AND expires_at > now() RETURNING id`,
    [req.launch],
  );
  if (!rows[0])
    throw invalid(
      'the launch is unknown, expired or already used: launch again from the clinical system',
      'launch',
    );
  return issueCode(q, req.launch, client, req);
}

/**
 * Standalone launch, after the user signed in at the region's identity provider: a launch with no
 * patient, used at once, and a code for the app.
 */
export async function authorizeStandalone(
  q: Queryable,
  req: AuthorizeRequest,
  client: SmartClient,
  user: UserPrincipal,
): Promise<{ redirect: string }> {
  const launch = id();
  await q.query(
    `INSERT INTO smart_launch (id, principal, nhs_number, created_at, expires_at, used_at)
     VALUES ($1, $2, NULL, now(), now() + make_interval(secs => $3), now())`,
    [launch, JSON.stringify(user), CODE_SECONDS],
  );
  return issueCode(q, launch, client, req);
}

async function issueCode(
  q: Queryable,
  launchId: string,
  client: SmartClient,
  req: AuthorizeRequest,
): Promise<{ redirect: string }> {
  const code = id();
  await q.query(
    `INSERT INTO smart_code (code, launch_id, client_id, redirect_uri, code_challenge, scope, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
    [
      code,
      launchId,
      client.clientId,
      req.redirect_uri,
      req.code_challenge ?? null,
      req.scope ?? 'launch',
      CODE_SECONDS,
    ],
  );
  const url = new URL(req.redirect_uri!);
  url.searchParams.set('code', code);
  if (req.state) url.searchParams.set('state', req.state);
  return { redirect: url.toString() };
}

export interface TokenRequest {
  grant_type?: string;
  code?: string;
  redirect_uri?: string;
  client_id?: string;
  code_verifier?: string;
}

export interface SessionToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  /** the patient in context: the NHS number; the app resolves it to the record id (none: standalone) */
  nhsNumber: string | null;
  user: UserPrincipal;
}

/** Exchanges a code for a session token bound to the launch's user and patient. */
export async function exchangeCode(q: Queryable, req: TokenRequest, secret: string): Promise<SessionToken> {
  if (req.grant_type !== 'authorization_code')
    throw invalid('grant_type must be authorization_code', 'grant_type');
  const { rows } = await q.query<{
    client_id: string;
    redirect_uri: string;
    code_challenge: string | null;
    scope: string;
    principal: string;
    nhs_number: string | null;
  }>(
    `UPDATE smart_code c SET used_at = now() FROM smart_launch l
     WHERE c.code = $1 AND c.used_at IS NULL AND c.expires_at > now() AND l.id = c.launch_id
     RETURNING c.client_id, c.redirect_uri, c.code_challenge, c.scope, l.principal, l.nhs_number`,
    [req.code ?? ''],
  );
  const row = rows[0];
  if (!row) throw invalid('the code is unknown, expired or already used', 'code');
  if (row.client_id !== req.client_id || row.redirect_uri !== req.redirect_uri)
    throw invalid('client_id or redirect_uri does not match the authorisation', 'client_id');
  const expected = createHash('sha256')
    .update(req.code_verifier ?? '')
    .digest('base64url');
  if (!row.code_challenge || expected !== row.code_challenge)
    throw invalid('code_verifier does not match the code_challenge', 'code_verifier');
  const launched = JSON.parse(row.principal) as UserPrincipal;
  // a launch for a patient binds the session to them; a launching user's own binding must agree
  if (row.nhs_number !== null && isBoundElsewhere(launched, row.nhs_number))
    throw invalid('the launch names another patient than the session that made it', 'code');
  const patient = row.nhs_number ?? launched.patient;
  const user: UserPrincipal = { ...launched, ...(patient ? { patient } : {}) };
  const access_token = await new SignJWT({
    kind: 'user',
    org: user.org,
    role: user.role,
    // a standalone session (administrators, the DPO) has no patient in context
    ...(patient ? { patient } : { standalone: true }),
    cid: row.client_id,
    idp: user.issuer,
    ...(user.name ? { name: user.name } : {}),
    ...(user.postcode ? { address: { postal_code: user.postcode } } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(SESSION_ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(user.userId)
    .setIssuedAt()
    .setExpirationTime(`${SESSION_SECONDS}s`)
    .sign(new TextEncoder().encode(secret));
  return {
    access_token,
    token_type: 'Bearer',
    expires_in: SESSION_SECONDS,
    scope: row.scope,
    nhsNumber: patient ?? null,
    user,
  };
}

/** Verifies a session token issued by exchangeCode. */
export async function verifySessionToken(secret: string, token: string): Promise<UserPrincipal> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      issuer: SESSION_ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
    });
    if (
      !payload.sub ||
      typeof payload.org !== 'string' ||
      typeof payload.role !== 'string' ||
      (typeof payload.patient !== 'string' && payload.standalone !== true)
    )
      throw new Error('incomplete');
    return {
      kind: 'user',
      userId: payload.sub,
      org: payload.org,
      role: payload.role,
      ...(typeof payload.patient === 'string' ? { patient: payload.patient } : {}),
      ...(typeof payload.cid === 'string' ? { client: payload.cid } : {}),
      issuer: typeof payload.idp === 'string' ? payload.idp : SESSION_ISSUER,
      ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
      ...postcodeClaim(payload.address),
    };
  } catch {
    throw new SharedcareError(
      'unauthenticated',
      'the session token is not valid or has expired: launch again from the clinical system',
    );
  }
}

export function smartConfiguration(publicUrl: string): Record<string, unknown> {
  return {
    issuer: publicUrl,
    authorization_endpoint: `${publicUrl}/oauth/authorize`,
    token_endpoint: `${publicUrl}/oauth/token`,
    grant_types_supported: ['authorization_code'],
    response_types_supported: ['code'],
    scopes_supported: ['launch', 'openid', 'fhirUser', 'patient/*.read', 'patient/*.rs'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    capabilities: [
      'launch-ehr',
      'launch-standalone',
      'client-public',
      'context-ehr-patient',
      'permission-patient',
      'permission-v1',
      'permission-v2',
    ],
  };
}
