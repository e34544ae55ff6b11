import type { FastifyInstance } from 'fastify';
import type { Services } from './context.ts';

export function registerOpsRoutes(app: FastifyInstance, services: Services): void {
  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_req, reply) => {
    try {
      await services.db.query('SELECT 1 FROM audit_head WHERE id = 1');
      return { status: 'ready', database: services.db.kind };
    } catch {
      return reply.code(503).send({ status: 'not ready', database: services.db.kind });
    }
  });

  app.get('/metrics', async (_req, reply) => {
    return reply
      .header('content-type', services.metrics.registry.contentType)
      .send(await services.metrics.registry.metrics());
  });

  // `/` belongs to the clinician's viewer: see viewer-routes.ts.
}
