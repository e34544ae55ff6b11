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

  app.get('/', async (_req, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sharedcare</title></head><body>` +
          `<h1>Sharedcare</h1><p>The shared care record server is running.</p>` +
          `<ul><li><a href="/fhir/metadata">FHIR CapabilityStatement</a></li><li><a href="/health">Health</a></li><li><a href="/ready">Readiness</a></li></ul></body></html>`,
      ),
  );
}
