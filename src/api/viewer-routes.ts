/**
 * The clinician's viewer (viewer/, a React app built by Vite into viewer/dist) served under
 * /viewer/, `/` sending clinicians to it, and the one small JSON endpoint the viewer needs that the
 * gate does not give: the sources panel (who contributes, what they share, how current the feed
 * is). Clinical data reaches the viewer only through the FHIR API and so through the gate.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { contributorFeeds } from '../region/index.ts';
import { requireUser } from './auth.ts';
import type { Services } from './context.ts';
import { landingPage } from './landing.ts';

/** Where `npm run build:viewer` writes the app; SHAREDCARE_VIEWER_DIR overrides it (packaging). */
export function viewerDist(): string {
  return process.env.SHAREDCARE_VIEWER_DIR ?? fileURLToPath(new URL('../../viewer/dist/', import.meta.url));
}

/**
 * Pages carry patient data: never cached, never framed by another site's page unless a clinical
 * system embeds it (frame-ancestors is left to the deployment's proxy), no third-party anything.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff');
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sharedcare</title></head><body>
<h1>The viewer has not been built</h1><p>Run <code>npm run build:viewer</code> (<code>npm install</code> does it too), then reload.</p>
<p>The FHIR API is available: <a href="/fhir/metadata">/fhir/metadata</a>.</p></body></html>`;

export function registerViewerRoutes(app: FastifyInstance, services: Services): void {
  const root = viewerDist();
  const built = existsSync(`${root}/index.html`) && existsSync(`${root}/launch.html`);

  // `/` says what this is and how to open a record (landing.ts); the record itself opens by a launch
  app.get('/', async (_req, reply) =>
    pageHeaders(reply)
      .header('content-type', 'text/html; charset=utf-8')
      .send(landingPage(services.config, services.devLinks)),
  );
  app.get('/viewer', async (_req, reply) => reply.redirect('/viewer/', 302));

  // The sources panel: region metadata, no patient data, but only for signed-in users.
  app.get('/viewer/api/sources', async (req, reply) => {
    await requireUser(services, req);
    const organisations = await contributorFeeds(services.db);
    return reply.header('cache-control', 'no-store').send({ organisations });
  });

  if (!built) {
    services.log.warn({ root }, 'the viewer is not built: /viewer/ explains how (npm run build:viewer)');
    for (const path of ['/viewer/', '/viewer/launch', '/viewer/*'])
      app.get(path, async (_req, reply) =>
        pageHeaders(reply).code(503).header('content-type', 'text/html; charset=utf-8').send(NOT_BUILT),
      );
    return;
  }

  void app.register(fastifyStatic, {
    root,
    prefix: '/viewer/',
    index: false,
    wildcard: true,
    cacheControl: false, // set below: immutable for hashed assets, no-store for pages
    setHeaders(res, path) {
      // hashed bundles may be cached; pages may not
      if (/[\\/]assets[\\/]/.test(path))
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      else res.setHeader('cache-control', 'no-store');
      if (path.endsWith('.html')) res.setHeader('content-security-policy', CSP);
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });
  app.get('/viewer/', async (_req, reply) => pageHeaders(reply).sendFile('index.html', root));
  app.get('/viewer/launch', async (_req, reply) => pageHeaders(reply).sendFile('launch.html', root));
}
