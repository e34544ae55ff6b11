import Fastify, { type FastifyInstance } from 'fastify';
import { checkReadiness } from '../admin/index.ts';
import { ClusterMetricsError, serverMetrics } from './cluster-metrics.ts';
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

  // In production the metrics are served by their own listener (buildMetricsServer), on loopback
  // unless told otherwise: they describe traffic and must not be open to anyone who can reach the API.
  if (!services.config.production) registerMetricsRoute(app, services);

  // `/` belongs to the clinician's viewer: see viewer-routes.ts.
}

// With several server processes, the metrics of all of them (src/api/cluster-metrics.ts).
function registerMetricsRoute(app: FastifyInstance, services: Services): void {
  app.get('/metrics', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    let text: string;
    try {
      text = await serverMetrics(services.metrics.registry);
    } catch (err) {
      if (!(err instanceof ClusterMetricsError)) throw err;
      return reply.code(503).type('text/plain; charset=utf-8').send(`${err.message}\n`);
    }
    return reply.header('content-type', services.metrics.registry.contentType).send(text);
  });
}

/** The metrics listener of a production server (SHAREDCARE_METRICS_HOST:SHAREDCARE_METRICS_PORT). */
export function buildMetricsServer(services: Services): FastifyInstance {
  const app = Fastify();
  registerMetricsRoute(app, services);
  return app;
}
