/** `sharedcare serve` and `sharedcare demo`: run the server until interrupted. */
import { createApp, type App } from '../app.ts';
import type { Config } from '../config/index.ts';
import { announceServer } from './server-file.ts';

export async function listen(app: App, config: Config): Promise<void> {
  await app.server.listen({ host: config.host, port: config.port });
  const unannounce = announceServer(config.dataDir, config.publicUrl);
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    app.services.log.info({ signal }, 'shutting down');
    unannounce();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

export async function serve(config: Config): Promise<App> {
  const app = await createApp(config);
  await listen(app, config);
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`;
  process.stderr.write(
    `Sharedcare is running at ${config.publicUrl} (${config.production ? 'production' : 'development'} mode, ${where}).\n` +
      `  FHIR API  ${config.publicUrl}/fhir/metadata\n  health    ${config.publicUrl}/health\n`,
  );
  return app;
}
