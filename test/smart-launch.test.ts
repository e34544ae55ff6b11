/**
 * The SMART on FHIR EHR launch, driven by the real SMART JavaScript client (fhirclient) running as
 * the app, with a tiny HTTP server of its own and this test playing the browser (following the
 * redirects). The clinical system registers the launch over the back channel; the patient never
 * appears in a URL; the session token is bound to that user and patient.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import smart from 'fhirclient';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { mintUserToken } from '../src/access/index.ts';
import type { Services } from '../src/api/index.ts';
import { registerDevRoutes } from '../src/api/dev-routes.ts';
import { startRegion, testConfig, type TestRegion } from './kit.ts';
import { freePort, listen, memoryStorage } from './smart-kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { personIdFor, postFhir } from './http.ts';

describe('SMART EHR launch with the SMART JavaScript client', () => {
  let r: TestRegion;
  let app: Server;
  let appUrl: string;
  let personId: string;
  const storage = memoryStorage();
  const results = new Map<string, unknown>();

  beforeAll(async () => {
    // The SMART app: /launch starts authorisation, /app finishes it and reads the record.
    app = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/launch') {
        void smart(req, res, storage).authorize({
          clientId: 'gp-record-app',
          scope: 'launch openid patient/*.read',
          redirectUri: '/app',
          pkceMode: 'required',
        });
      } else if (url.pathname === '/app') {
        smart(req, res, storage)
          .ready()
          .then(async (client) => {
            const everything = await client.request(`Patient/${client.patient.id}/$everything`);
            let other: unknown;
            try {
              await client.request(`Patient/${results.get('other')}/$everything`);
            } catch (err) {
              other = (err as { status?: number }).status;
            }
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                patient: client.patient.id,
                everything,
                otherStatus: other,
                tokenResponse: client.state.tokenResponse,
              }),
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

    const port = await freePort();
    r = await startRegion('pglite', {
      publicUrl: `http://127.0.0.1:${port}`,
      smartClients: [{ clientId: 'gp-record-app', redirectUris: [`${appUrl}/app`] }],
    });
    await r.app.server.listen({ port, host: '127.0.0.1' });
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('sm-1', '9990000220'), condition('sm-c', 'Patient/sm-1', HYPERTENSION)]),
    );
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patient('sm-2', '9990000239'), condition('sm-c2', 'Patient/sm-2', HYPERTENSION)]),
    );
    personId = await personIdFor(r, '9990000220');
    results.set('other', await personIdFor(r, '9990000239'));
  });
  afterAll(async () => {
    app.close();
    await r.drop();
  });

  /** The clinical system's back channel: register the launch for its signed-in user. */
  async function registerLaunch(
    nhs: string,
  ): Promise<{ status: number; body: { launch?: string; iss?: string } }> {
    const res = await fetch(`${r.config.publicUrl}/launch`, {
      method: 'POST',
      headers: {
        // the clinical system's user, with the name and home postcode their identity provider gives
        authorization: `Bearer ${await mintUserToken(r.config.devIssuerSecret!, {
          user: 'dr.gp',
          org: 'Y90001',
          role: 'R8000',
          name: 'Dr Gita Patel',
          postcode: 'LS1 4AP',
        })}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ patient: nhs }),
    });
    return { status: res.status, body: (await res.json()) as { launch?: string; iss?: string } };
  }

  /** The browser: follow redirects from the app's launch URL to the app's page. */
  async function browse(start: string): Promise<{ status: number; text: string; visited: string[] }> {
    const visited: string[] = [];
    let url = start;
    for (let hop = 0; hop < 6; hop++) {
      visited.push(url);
      const res = await fetch(url, { redirect: 'manual' });
      const next = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && next) url = new URL(next, url).href;
      else return { status: res.status, text: await res.text(), visited };
    }
    throw new Error('too many redirects');
  }

  it('publishes its SMART configuration', async () => {
    const conf = (await (
      await fetch(`${r.config.publicUrl}/fhir/.well-known/smart-configuration`)
    ).json()) as { capabilities: string[]; authorization_endpoint: string };
    expect(conf.capabilities).toEqual(expect.arrayContaining(['launch-ehr', 'context-ehr-patient']));
    expect(conf.authorization_endpoint).toBe(`${r.config.publicUrl}/oauth/authorize`);
  });

  it('opens the patient’s record in the app with no second sign-in, bound to that patient', async () => {
    const { status, body } = await registerLaunch('9990000220');
    expect(status).toBe(201);
    const launchUrl = `${appUrl}/launch?iss=${encodeURIComponent(body.iss!)}&launch=${body.launch}`;
    const page = await browse(launchUrl);
    expect(page.status, page.text).toBe(200);
    // the NHS number is in no URL the browser saw
    expect(page.visited.join(' ')).not.toContain('9990000220');
    const result = JSON.parse(page.text) as {
      patient: string;
      everything: { entry: { resource: { resourceType: string } }[] };
      otherStatus: number;
      tokenResponse: { access_token: string };
    };
    expect(result.patient).toBe(personId);
    // the session carries the user's name and postcode (for the alert rules) from the launch...
    const session = decodeJwt(result.tokenResponse.access_token);
    expect(session).toMatchObject({
      sub: 'dr.gp',
      name: 'Dr Gita Patel',
      address: { postal_code: 'LS1 4AP' },
    });
    // ...and the audit trail records the name, never the postcode
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE person_id = $1 AND action = 'record.open'`,
      [personId],
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { event } of rows) {
      expect(JSON.parse(event).user).toMatchObject({ id: 'dr.gp', name: 'Dr Gita Patel' });
      expect(event).not.toMatch(/LS1 ?4AP|postcode/i);
    }
    expect(result.everything.entry.map((e) => e.resource.resourceType)).toEqual(
      expect.arrayContaining(['Patient', 'Condition']),
    );
    // the same session cannot open another person's record
    expect(result.otherStatus).toBe(403);

    // a launch id works once
    const again = await browse(launchUrl);
    expect(again.status).not.toBe(200);
    // the app is told why, with an OAuth error it can show
    const told = new URL(again.visited.at(-1)!);
    expect(told.searchParams.get('error')).toBe('invalid_request');
    expect(told.searchParams.get('error_description')).toMatch(/already used: launch again/);
    expect(told.searchParams.get('code')).toBeNull();
  });

  it('forgets launches and codes an hour after they expire, keeping the ones still in play', async () => {
    const { body: used } = await registerLaunch('9990000220');
    await r.db.query(
      `INSERT INTO smart_code (code, launch_id, client_id, redirect_uri, scope, expires_at)
       VALUES ('old-code', $1, 'gp-record-app', '/app', 'launch', now() - interval '2 hours')`,
      [used.launch],
    );
    await r.db.query(`UPDATE smart_launch SET expires_at = now() - interval '2 hours' WHERE id = $1`, [
      used.launch,
    ]);
    const { body: recent } = await registerLaunch('9990000220');
    const left = async (sql: string, id: string) => (await r.db.query(sql, [id])).rows.length;
    expect(await left('SELECT 1 FROM smart_launch WHERE id = $1', used.launch!)).toBe(0);
    expect(await left('SELECT 1 FROM smart_code WHERE launch_id = $1', used.launch!)).toBe(0);
    expect(await left('SELECT 1 FROM smart_launch WHERE id = $1', recent.launch!)).toBe(1);
  });

  it('refuses a launch for something that is not an NHS number, and a launch without a user token', async () => {
    expect((await registerLaunch('12345')).status).toBe(400);
    const res = await fetch(`${r.config.publicUrl}/launch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"patient":"9990000220"}',
    });
    expect(res.status).toBe(401);
  });

  it('refuses an authorisation request from an unregistered app or redirect', async () => {
    const { body } = await registerLaunch('9990000220');
    const q = (o: Record<string, string>) =>
      new URLSearchParams({
        response_type: 'code',
        scope: 'launch',
        aud: body.iss!,
        launch: body.launch!,
        state: 's',
        ...o,
      });
    const bad = await fetch(
      `${r.config.publicUrl}/oauth/authorize?${q({ client_id: 'evil-app', redirect_uri: 'https://evil.example/cb' })}`,
      { redirect: 'manual' },
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_request');
    const wrongRedirect = await fetch(
      `${r.config.publicUrl}/oauth/authorize?${q({ client_id: 'gp-record-app', redirect_uri: 'https://evil.example/cb' })}`,
      { redirect: 'manual' },
    );
    expect(wrongRedirect.status).toBe(400);
    // a registered app that does not prove itself with PKCE (a code taken from its redirect, a log
    // or a browser's history would otherwise be as good as the app's own)
    const noPkce = await fetch(
      `${r.config.publicUrl}/oauth/authorize?${q({ client_id: 'gp-record-app', redirect_uri: `${appUrl}/app` })}`,
      { redirect: 'manual' },
    );
    expect(noPkce.status).toBe(400);
    expect(await noPkce.text()).toMatch(/code_challenge is required/);
  });

  /** The app under test stands in for the viewer: same launch, same authorisation server. */
  const asApp = (viewerUrl: string) => {
    const u = new URL(viewerUrl);
    expect(u.pathname).toBe('/viewer/launch');
    return `${appUrl}/launch${u.search}`;
  };

  it('sharedcare launch-url registers a launch with the running server and prints the viewer URL', async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          path.resolve('bin/sharedcare.js'),
          'launch-url',
          '--user',
          'dr.gp',
          '--org',
          'Y90001',
          '--role',
          'R8000',
          '--nhs',
          '999 000 0220',
        ],
        { env: { ...process.env, SHAREDCARE_PUBLIC_URL: r.config.publicUrl, NODE_ENV: 'test' } },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    const url = run.stdout.trim();
    expect(url.startsWith(`${r.config.publicUrl}/viewer/launch?`)).toBe(true);
    expect(url).not.toContain('9990000220');
    const page = await browse(asApp(url));
    expect(page.status, page.text).toBe(200);
    expect((JSON.parse(page.text) as { patient: string }).patient).toBe(personId);
  });

  it('sharedcare launch-url says what to do when no server is running', async () => {
    const run = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          path.resolve('bin/sharedcare.js'),
          'launch-url',
          '--user',
          'u',
          '--org',
          'Y90001',
          '--role',
          'R8000',
          '--nhs',
          '9990000220',
        ],
        { env: { ...process.env, SHAREDCARE_PUBLIC_URL: 'http://127.0.0.1:9', NODE_ENV: 'test' } },
        (err, _stdout, stderr) => resolve({ code: err ? 1 : 0, stderr }),
      ),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no Sharedcare server answers at http:\/\/127\.0\.0\.1:9: start it first/);
  });

  it('the simulated clinical system opens the viewer in context through a fresh launch each time', async () => {
    const q = new URLSearchParams({ user: 'dr.gp', org: 'Y90001', role: 'R8000', nhs: '9990000220' });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${r.config.publicUrl}/dev/ehr/open?${q}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = res.headers.get('location')!;
      expect(location).not.toContain('9990000220');
      const page = await browse(asApp(location));
      expect(page.status, page.text).toBe(200);
      expect((JSON.parse(page.text) as { patient: string }).patient).toBe(personId);
    }
    const bad = await fetch(`${r.config.publicUrl}/dev/ehr/open?user=u&nhs=123`, { redirect: 'manual' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/org is required.*role is required.*valid NHS number/);
  });
});

describe('the simulated clinical system in production mode', () => {
  it('does not exist', async () => {
    const server = Fastify();
    const config = { ...testConfig(), production: true, devIssuerSecret: undefined };
    registerDevRoutes(server, { config } as Services);
    const res = await server.inject({ url: '/dev/ehr/open?user=u&org=Y90001&role=R8000&nhs=9990000220' });
    expect(res.statusCode).toBe(404);
    await server.close();
  });
});
