/** `sharedcare serve` and `sharedcare demo`: run the server until interrupted. */
import { createApp, type App } from '../app.ts';
import type { FastifyInstance } from 'fastify';
import { buildMetricsServer, shareMetricsWithPrimary } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import { mllpSenders, startMllpListener, type MllpListener } from '../ingest/index.ts';
import { fixHeapGrowth, stopPretenuring } from './memory.ts';
import { announceServer } from './server-file.ts';
import { announceListening, workerId } from './workers.ts';

/**
 * HL7 v2 feeds: messages landed but not finished when the server last stopped are processed
 * first, in arrival order, then the MLLP listener opens.
 */
export async function startFeeds(app: App, config: Config): Promise<MllpListener> {
  // With several processes only the first finishes what a stopped server left: the others start
  // once it listens, while it may be processing new messages that are 'landed' for a moment.
  const id = workerId();
  const recovered =
    id === undefined || id === 1 ? await app.services.hl7.replay({ onlyPending: true }) : undefined;
  if (recovered && recovered.messages > 0)
    app.services.log.info(
      { messages: recovered.messages, acks: recovered.counts },
      'HL7 v2: landed messages processed',
    );
  return startMllpListener(
    app.services.hl7,
    {
      host: config.mllpHost,
      port: config.mllpPort,
      ...(config.mllpTls ? { tls: config.mllpTls } : {}),
      senders: mllpSenders(config.sources),
    },
    app.services.log,
  );
}

/** In production, /metrics has a listener of its own (loopback by default); returns its address. */
export async function listenForMetrics(app: App, config: Config): Promise<FastifyInstance | undefined> {
  if (!config.production) return undefined;
  const metrics = buildMetricsServer(app.services);
  await metrics.listen({ host: config.metricsHost, port: config.metricsPort });
  return metrics;
}

export interface Listeners {
  metrics: FastifyInstance | undefined;
  mllp: MllpListener;
}

export async function listen(app: App, config: Config): Promise<Listeners> {
  await app.server.listen({ host: config.host, port: config.port });
  const mllp = await startFeeds(app, config);
  const metrics = await listenForMetrics(app, config);
  // in a cluster the primary announces the server (its pid is the one the CLI can check)
  const unannounce =
    workerId() === undefined ? announceServer(config.dataDir, config.publicUrl) : () => undefined;
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    app.services.log.info({ signal }, 'shutting down');
    unannounce();
    Promise.all([mllp.close(), app.close(), metrics?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return { metrics, mllp };
}

export async function serve(config: Config): Promise<App> {
  fixHeapGrowth(); // before the heap has grown (src/cli/memory.ts)
  stopPretenuring(); // before V8 has weighed the request path's literals (src/cli/memory.ts)
  const app = await createApp(config);
  // in a cluster, /metrics on any process answers for all of them (src/api/cluster-metrics.ts)
  shareMetricsWithPrimary(app.services.metrics.registry);
  const { metrics, mllp } = await listen(app, config);
  announceListening();
  const id = workerId();
  if (id !== undefined && id !== 1) return app; // the first worker speaks for all
  const address = metrics?.server.address();
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`;
  process.stderr.write(
    `Sharedcare is running at ${config.publicUrl} (${config.production ? 'production' : 'development'} mode, ${where}).\n` +
      `  FHIR API  ${config.publicUrl}/fhir/metadata\n  health    ${config.publicUrl}/health\n` +
      `  HL7 v2    MLLP on ${config.mllpHost}:${mllp.port}${config.mllpTls ? ' (TLS)' : ''}, or POST ${config.publicUrl}/ingest/hl7v2\n` +
      (address && typeof address === 'object'
        ? `  metrics   http://${address.address}:${address.port}/metrics (its own listener)\n`
        : ''),
  );
  return app;
}
