import Fastify, { type FastifyInstance } from 'fastify';
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

  // In production the metrics are served by their own listener (buildMetricsServer), on loopback
  // unless told otherwise: they describe traffic and must not be open to anyone who can reach the API.
  if (!services.config.production) registerMetricsRoute(app, services);

  // `/` belongs to the clinician's viewer: see viewer-routes.ts.
}

function registerMetricsRoute(app: FastifyInstance, services: Services): void {
  app.get('/metrics', async (_req, reply) => {
    return reply
      .header('content-type', services.metrics.registry.contentType)
      .header('cache-control', 'no-store')
      .send(await services.metrics.registry.metrics());
  });
}

/** The metrics listener of a production server (SHAREDCARE_METRICS_HOST:SHAREDCARE_METRICS_PORT). */
export function buildMetricsServer(services: Services): FastifyInstance {
  const app = Fastify();
  registerMetricsRoute(app, services);
  return app;
}
