import type { FastifyInstance } from 'fastify';
import { checkReadiness } from '../admin/index.ts';
import type { Services } from './context.ts';

export function registerOpsRoutes(app: FastifyInstance, services: Services): void {
  app.get('/health', async () => ({ status: 'ok' }));

  // Ready = can serve a governed read now (src/admin/readiness.ts), as the serving database role.
  app.get('/ready', async (_req, reply) => {
    const r = await checkReadiness(services.db);
    reply.header('cache-control', 'no-store');
    if (r.ready) return { status: 'ready', database: services.db.kind };
    return reply.code(503).send({ status: 'not ready', database: services.db.kind, reason: r.reason });
  });

  app.get('/metrics', async (_req, reply) => {
    return reply
      .header('content-type', services.metrics.registry.contentType)
      .send(await services.metrics.registry.metrics());
  });

  // `/` belongs to the clinician's viewer: see viewer-routes.ts.
}
