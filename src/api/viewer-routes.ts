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
import { DEFAULT_ROLES, roleAccess } from '../access/index.ts';
import { contributorFeeds, getOrganisation } from '../region/index.ts';
import { requireUser } from './auth.ts';
import type { Services } from './context.ts';
import { landingPage } from './landing.ts';

/** GET /viewer/api/session: the signed-in user's context, as the viewer shows it. */
export interface ViewerSession {
  user: { id: string; name: string | null };
  role: { code: string; name: string; access: string | null };
  /** the user's organisation; `views` false: it does not view the shared care record */
  organisation: { ods: string; name: string | null; takesPart: boolean; views: boolean };
  /** the sections of the record this role may see (src/access/roles.ts ALL_SECTIONS names) */
  sections: string[];
  /** the person the launch named, by NHS number (the user's own clinical system gave it) */
  patient: { nhsNumber: string } | null;
}

/** Where `npm run build:viewer` writes the app; SHAREDCARE_VIEWER_DIR overrides it (packaging). */
export function viewerDist(): string {
  return process.env.SHAREDCARE_VIEWER_DIR ?? fileURLToPath(new URL('../../viewer/dist/', import.meta.url));
}

/**
 * Pages carry patient data: the security headers (src/api/security-headers.ts: CSP, framing by
 * the configured clinical systems only, nosniff, no-store) are set on every response by helmet.
 */
function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
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

  // Who is signed in, as what, at which organisation, and what that role may see (the sections of
  // src/access/roles.ts): the viewer's header, and how it tells "not shared" from "not for your role".
  const roles = { ...DEFAULT_ROLES, ...services.config.access.roles };
  app.get('/viewer/api/session', async (req, reply) => {
    const user = await requireUser(services, req);
    const org = await getOrganisation(services.db, user.org);
    const role = roleAccess(user.role, roles);
    const session: ViewerSession = {
      user: { id: user.userId, name: user.name ?? null },
      role: { code: user.role, name: role.name, access: role.kind ?? null },
      organisation: {
        ods: user.org,
        name: org?.name ?? null,
        takesPart: !!org,
        views: org?.views ?? false,
      },
      sections: [...role.sections],
      patient: user.patient ? { nhsNumber: user.patient } : null,
    };
    return reply.header('cache-control', 'no-store').send(session);
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
    },
  });
  app.get('/viewer/', async (_req, reply) => pageHeaders(reply).sendFile('index.html', root));
  app.get('/viewer/launch', async (_req, reply) => pageHeaders(reply).sendFile('launch.html', root));
}
