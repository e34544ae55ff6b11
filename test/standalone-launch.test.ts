/**
 * The SMART standalone launch for administrators and the data protection officer: the app (the
 * real SMART JavaScript client) sends them to Sharedcare, Sharedcare sends them to the region's
 * identity provider (a real OpenID Connect provider, oidc-provider, with its development login
 * pages) and back, and the app gets a session token with no patient in context. Clinicians are
 * refused: they open records from their clinical system.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import smart from 'fhirclient';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegion, type TestRegion } from './kit.ts';
import { freePort, listen, memoryStorage } from './smart-kit.ts';

const ACCOUNTS: Record<string, Record<string, string>> = {
  'dpo.smith': { name: 'Pat Smith', org: 'Y90001', role: 'sharedcare-dpo' },
  'dr.jones': { name: 'Dr Jones', org: 'Y90001', role: 'R8000' },
};
const SECRET = 'a-client-secret-for-sharedcare-at-the-idp';

/** A browser: follows redirects, keeps cookies per origin, and signs in at the provider's pages. */
async function browse(
  start: string,
  login: string,
): Promise<{ status: number; text: string; visited: string[] }> {
  const jar = new Map<string, Map<string, string>>();
  const visited: string[] = [];
  let url = start;
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    visited.push(url);
    const origin = new URL(url).origin;
    const cookies = jar.get(origin) ?? new Map<string, string>();
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    jar.set(origin, cookies);
    const next = res.headers.get('location');
    [method, body] = ['GET', undefined];
    if (res.status >= 300 && res.status < 400 && next) {
      url = new URL(next, url).href;
      continue;
    }
    const text = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(text)?.[1];
    if (res.status === 200 && action && url.includes('/interaction/')) {
      // the provider's development pages: a login form, then a consent form
      const prompt = /name="prompt" value="([a-z]+)"/.exec(text)?.[1] ?? '';
      url = new URL(action, url).href;
      method = 'POST';
      body = new URLSearchParams(
        prompt === 'login' ? { prompt, login, password: 'x' } : { prompt },
      ).toString();
      continue;
    }
    return { status: res.status, text, visited };
  }
  throw new Error(`too many hops: ${visited.join(' → ')}`);
}

describe('standalone launch for administrators and the data protection officer', () => {
  let r: TestRegion;
  let idpServer: Server;
  let app: Server;
  let appUrl: string;

  beforeAll(async () => {
    // The SMART app (e.g. the DPO's console): /launch starts, /app finishes and calls Sharedcare.
    const storage = memoryStorage();
    app = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/launch') {
        void smart(req, res, storage).authorize({
          iss: url.searchParams.get('iss')!,
          clientId: 'dpo-console',
          scope: 'openid fhirUser user/*.read',
          redirectUri: '/app',
          pkceMode: 'required',
        });
      } else if (url.pathname === '/app') {
        smart(req, res, storage)
          .ready()
          .then(async (client) => {
            const token = client.state.tokenResponse!.access_token!;
            const optOut = await fetch(`${r.config.publicUrl}/admin/opt-out?nhs=9990000018`, {
              headers: { authorization: `Bearer ${token}` },
            });
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({ tokenResponse: client.state.tokenResponse, optOutStatus: optOut.status }),
            );
          })
          .catch((err: Error) => {
            res.writeHead(500);
            res.end(String(err.message));
          });
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    appUrl = await listen(app);

    // Sharedcare's address must be known to register its callback with the provider.
    const sharedcareUrl = `http://127.0.0.1:${await freePort()}`;

    idpServer = createServer();
    const issuer = await listen(idpServer);
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'sharedcare',
          client_secret: SECRET,
          redirect_uris: [`${sharedcareUrl}/oauth/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      claims: { openid: ['sub'], profile: ['name', 'org', 'role'] },
      findAccount: (_ctx, sub) =>
        ACCOUNTS[sub] ? { accountId: sub, claims: async () => ({ sub, ...ACCOUNTS[sub] }) } : undefined,
      features: { devInteractions: { enabled: true } },
      pkce: { required: () => true },
    });
    idpServer.on('request', provider.callback());

    r = await startRegion('pglite', {
      publicUrl: sharedcareUrl,
      identityProviders: [
        {
          issuer,
          audience: 'sharedcare',
          for: 'users',
          claims: {
            style: 'simple',
            user: 'sub',
            name: 'name',
            org: 'org',
            role: 'role',
            source: 'client_id',
          },
          signIn: { clientId: 'sharedcare', clientSecret: SECRET, scope: 'openid profile' },
        },
      ],
      smartClients: [{ clientId: 'dpo-console', redirectUris: [`${appUrl}/app`] }],
    });
    await r.app.server.listen({ port: Number(new URL(sharedcareUrl).port), host: '127.0.0.1' });
  });
  afterAll(async () => {
    app.close();
    idpServer.close();
    await r?.drop();
  });

  const launch = (login: string) =>
    browse(`${appUrl}/launch?iss=${encodeURIComponent(`${r.config.publicUrl}/fhir`)}`, login);

  it('advertises the standalone launch', async () => {
    const conf = (await (await fetch(`${r.config.publicUrl}/.well-known/smart-configuration`)).json()) as {
      capabilities: string[];
    };
    expect(conf.capabilities).toContain('launch-standalone');
  });

  it('signs the data protection officer in at the identity provider; the session has no patient', async () => {
    const page = await launch('dpo.smith');
    expect(page.status, `${page.text} ${page.visited.join(' → ')}`).toBe(200);
    expect(page.visited.some((u) => u.includes('/interaction/'))).toBe(true);
    const result = JSON.parse(page.text) as { tokenResponse: { patient?: string }; optOutStatus: number };
    expect(result.tokenResponse.patient).toBeUndefined();
    // the session works where the DPO may go
    expect(result.optOutStatus).toBe(200);
  });

  it('refuses a clinician, who must open records from the clinical system', async () => {
    const page = await launch('dr.jones');
    // the app is told why (OAuth access_denied), and gets no code
    const back = new URL(page.visited.at(-1)!);
    expect(back.pathname).toBe('/app');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toMatch(
      /clinicians open a person's record from their clinical system/,
    );
    expect(back.searchParams.get('code')).toBeNull();
    expect(page.status).not.toBe(200);
  });

  it('refuses a callback it did not start', async () => {
    const res = await fetch(`${r.config.publicUrl}/oauth/callback?code=abc&state=forged`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/unknown, expired or already used/);
  });
});
