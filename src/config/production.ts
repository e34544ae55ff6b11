/** The production start-up check of the configuration (docs/security.md, the checklist). */
import path from 'node:path';
import type { Config } from './index.ts';
import { projectRoot } from './index.ts';
import { productionSecrets, secretProblems } from './secrets.ts';

/**
 * What a server needs before it may start in production mode that the configuration alone shows;
 * checked by `serve`, not by every command. What the database shows (the role the server connects
 * as, migrations) is checked at start by createApp (src/app.ts); docs/security.md lists both.
 */
export function productionProblems(config: Config): string[] {
  if (!config.production) return [];
  const problems: string[] = [];
  if (config.identityProviders.length === 0) {
    problems.push(
      'production mode needs at least one trusted identity provider (identityProviders in the config file): the development issuer is never trusted in production',
    );
  }
  if (!config.databaseUrl)
    problems.push(
      'production mode needs DATABASE_URL (PostgreSQL); the embedded database is for development and demonstrations',
    );
  if (config.ownerDatabaseUrl)
    problems.push(
      "SHAREDCARE_OWNER_DATABASE_URL is set: the server must not hold the tables' owner's credentials (only `sharedcare migrate` uses them)",
    );
  if (config.exposeWorker)
    problems.push('SHAREDCARE_EXPOSE_WORKER is for tests: it must not be set in production mode');
  for (const origin of config.frameAncestors)
    if (!origin.startsWith('https://'))
      problems.push(`frameAncestors: ${origin} must be an https:// origin in production mode`);
  // the operator's own files may sit inside the project folder: they hold the secrets, not publish them
  const own = [config.dataDir, config.audit.signingKeyFile, config.audit.checkpointDir, config.configFile]
    .filter((f): f is string => !!f)
    .map((f) => path.resolve(f));
  problems.push(...secretProblems(productionSecrets(config), projectRoot, own));
  return problems;
}
