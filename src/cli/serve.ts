/** `sharedcare serve` and `sharedcare demo`: run the server until interrupted. */
import { createApp, type App } from '../app.ts';
import type { FastifyInstance } from 'fastify';
import { buildMetricsServer } from '../api/index.ts';
import type { Config } from '../config/index.ts';

/** In production, /metrics has a listener of its own (loopback by default); returns its address. */
export async function listenForMetrics(app: App, config: Config): Promise<FastifyInstance | undefined> {
  if (!config.production) return undefined;
  const metrics = buildMetricsServer(app.services);
  await metrics.listen({ host: config.metricsHost, port: config.metricsPort });
  return metrics;
}

export async function listen(app: App, config: Config): Promise<FastifyInstance | undefined> {
  await app.server.listen({ host: config.host, port: config.port });
  const metrics = await listenForMetrics(app, config);
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    app.services.log.info({ signal }, 'shutting down');
    Promise.all([app.close(), metrics?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return metrics;
}

export async function serve(config: Config): Promise<App> {
  const app = await createApp(config);
  const metrics = await listen(app, config);
  const address = metrics?.server.address();
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`;
  process.stderr.write(
    `Sharedcare is running at ${config.publicUrl} (${config.production ? 'production' : 'development'} mode, ${where}).\n` +
      `  FHIR API  ${config.publicUrl}/fhir/metadata\n  health    ${config.publicUrl}/health\n` +
      (address && typeof address === 'object'
        ? `  metrics   http://${address.address}:${address.port}/metrics (its own listener)\n`
        : ''),
  );
  return app;
}
