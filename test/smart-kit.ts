/** What the SMART launch tests share: a port, a listening server, the app's session storage. */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** Starts the server on a free loopback port; returns its base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A free loopback port (for a server whose address must be known before it starts). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const url = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return Number(new URL(url).port);
}

/** fhirclient's storage contract, kept in memory for the app's one session. */
export function memoryStorage() {
  const m = new Map<string, unknown>();
  return {
    get: async (k: string) => m.get(k),
    set: async (k: string, v: unknown) => (m.set(k, v), v),
    unset: async (k: string) => m.delete(k),
  };
}

/** Where a SMART EHR launch stopped, or the session it ended with. */
export type LaunchResult =
  | { step: 'launch' | 'authorize' | 'token'; status: number; body: string }
  | { step: 'session'; accessToken: string; patient: string | undefined };

/**
 * The SMART EHR launch in process, as the viewer runs it: the clinical system registers the launch
 * with `bearer` (POST /launch), the app is authorised with the launch id and exchanges the code.
 * `launchId` skips the first hop (a launch id made elsewhere).
 */
export async function smartLaunch(
  r: { app: { server: FastifyInstance }; config: { publicUrl: string } },
  bearer: string,
  nhs: string,
  launchId?: string,
): Promise<LaunchResult> {
  const { server } = r.app;
  let id = launchId;
  if (!id) {
    const res = await server.inject({
      method: 'POST',
      url: '/launch',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ patient: nhs }),
    });
    if (res.statusCode !== 201) return { step: 'launch', status: res.statusCode, body: res.body };
    id = (res.json() as { launch: string }).launch;
  }
  const redirect = `${r.config.publicUrl}/viewer/`;
  const verifier = pkce();
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: 'sharedcare-viewer',
    redirect_uri: redirect,
    launch: id,
    aud: `${r.config.publicUrl}/fhir`,
    state: 'st',
    scope: 'launch patient/*.read',
    ...verifier.params,
  });
  const auth = await server.inject({ method: 'GET', url: `/oauth/authorize?${params.toString()}` });
  const code = auth.headers.location ? new URL(String(auth.headers.location)).searchParams.get('code') : null;
  if (!code) return { step: 'authorize', status: auth.statusCode, body: String(auth.headers.location ?? '') };
  const token = await server.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirect,
      client_id: 'sharedcare-viewer',
      code_verifier: verifier.verifier,
    }).toString(),
  });
  if (token.statusCode !== 200) return { step: 'token', status: token.statusCode, body: token.body };
  const body = token.json() as { access_token: string; patient?: string };
  return { step: 'session', accessToken: body.access_token, patient: body.patient };
}

/** A PKCE verifier and its S256 challenge, as a SMART app makes one per authorisation. */
export function pkce(): {
  verifier: string;
  params: { code_challenge: string; code_challenge_method: 'S256' };
} {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, params: { code_challenge: challenge, code_challenge_method: 'S256' } };
}
