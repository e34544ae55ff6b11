/**
 * Security headers (issue 11 item 8), set by @fastify/helmet on every response: framing only by
 * the configured clinical systems, HSTS in production, nosniff on FHIR answers, no-store on
 * administrative and DPO answers, and /metrics off the public listener in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DPO_ROLE, mintUserToken } from '../src/access/index.ts';
import { buildMetricsServer, buildServer } from '../src/api/index.ts';
import { listenForMetrics } from '../src/cli/serve.ts';
import type { Config } from '../src/config/index.ts';
import { startRegion, type TestRegion } from './kit.ts';

let r: TestRegion;
beforeAll(async () => {
  r = await startRegion('pglite');
});
afterAll(async () => r?.drop());

/** The real server, built over the same services with another configuration. */
function serverWith(config: Partial<Config>) {
  return buildServer({ ...r.app.services, config: { ...r.config, ...config } });
}

describe('security headers', () => {
  it('forbid framing by default, and nosniff every FHIR answer, errors included', async () => {
    for (const url of ['/fhir/metadata', '/fhir/Patient/nobody/$everything', '/fhir/Nothing']) {
      const res = await r.app.server.inject({ url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['content-security-policy'], url).toMatch(/frame-ancestors 'none'/);
    }
  });

  it('let only the configured clinical systems frame the viewer', async () => {
    const server = serverWith({
      frameAncestors: ['https://gp-system.example.nhs.uk', 'https://pas.example.nhs.uk'],
    });
    const res = await server.inject({ url: '/viewer/' });
    expect(res.headers['content-security-policy']).toMatch(
      /frame-ancestors 'self' https:\/\/gp-system\.example\.nhs\.uk https:\/\/pas\.example\.nhs\.uk/,
    );
    expect(res.headers['x-frame-options']).toBeUndefined();
    await server.close();
  });

  it('never let administrative or DPO answers be cached, refusals included', async () => {
    const admin = await r.adminToken();
    const dpo = await mintUserToken(r.config.devIssuerSecret!, {
      user: 'dpo1',
      org: 'Y90001',
      role: DPO_ROLE,
    });
    for (const [url, token] of [
      ['/admin/organisations', admin],
      ['/admin/sources', admin],
      ['/dpo/alerts', dpo],
      ['/dpo/alerts', admin],
      ['/admin/organisations', undefined],
    ] as const) {
      const res = await r.app.server.inject({
        url,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      expect(res.headers['cache-control'], `${url} ${res.statusCode}`).toBe('no-store');
    }
  });

  it('send HSTS in production only', async () => {
    expect(
      (await r.app.server.inject({ url: '/health' })).headers['strict-transport-security'],
    ).toBeUndefined();
    const server = serverWith({ production: true });
    const res = await server.inject({ url: '/health' });
    expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000; includeSubDomains/);
    await server.close();
  });

  it('serve /metrics in production only on its own listener, on loopback by default', async () => {
    const server = serverWith({ production: true });
    expect((await server.inject({ url: '/metrics' })).statusCode).toBe(404);
    await server.close();
    const config = { ...r.config, production: true, metricsPort: 0 };
    expect(config.metricsHost).toBe('127.0.0.1');
    const metrics = (await listenForMetrics(r.app, config))!;
    try {
      const address = metrics.server.address();
      expect(address).toMatchObject({ address: '127.0.0.1' });
      const res = await fetch(`http://127.0.0.1:${(address as { port: number }).port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/sharedcare_http_request_duration_seconds/);
      // the FHIR reads' admission queue, for the operator on call
      expect(text).toMatch(/^sharedcare_fhir_reads_waiting 0$/m);
      expect(text).toMatch(/^sharedcare_fhir_reads_in_progress 0$/m);
      expect(text).toMatch(/^sharedcare_fhir_reads_refused_total 0$/m);
    } finally {
      await metrics.close();
    }
    const alone = buildMetricsServer(r.app.services);
    expect((await alone.inject({ url: '/fhir/metadata' })).statusCode).toBe(404);
    await alone.close();
  });

  it('keep the viewer’s policy: scripts and connections only from this server', async () => {
    const res = await r.app.server.inject({ url: '/viewer/' });
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
