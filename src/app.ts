/**
 * The one place where modules are wired together: configuration → database → policy → gate →
 * ingest → HTTP. Tests build the same app (in memory or on PostgreSQL) and call it in-process.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import {
  reassignRelationshipFacts,
  recordRelationshipFacts,
  relationshipFacts,
  createTokenVerifier,
  DEFAULT_ROLES,
} from './access/index.ts';
import { buildServer, createMetrics, type Services } from './api/index.ts';
import { ConfigError, productionProblems, type Config } from './config/index.ts';
import { openDatabase, type Database } from './db/index.ts';
import { loadSchemaValidators } from './fhir/index.ts';
import { createGate } from './gate/index.ts';
import { createPersonLinker, loadMatchRules } from './identity/index.ts';
import { createLogger } from './logging.ts';
import { withDatabaseRole } from './audit/index.ts';
import { createPolicy, ensureLabelsCurrent, type Policy } from './policy/index.ts';
import type { IngestDeps } from './ingest/index.ts';
import type { ItemFacts } from './access/index.ts';
import { applyRegion } from './region/index.ts';

export interface App {
  services: Services;
  server: FastifyInstance;
  close(): Promise<void>;
}

export interface AppOptions {
  /** an already open database (tests); otherwise opened from the config */
  db?: Database;
  /** PGlite in memory instead of the data folder (tests) */
  inMemory?: boolean;
  log?: Logger;
}

/** What intake needs, wired the same way for the server and the CLI's direct mode. */
export function buildIngestDeps(db: Database, config: Config, policy: Policy): IngestDeps {
  return {
    db,
    linker: createPersonLinker(loadMatchRules(config.identityRules)),
    classify: policy.classify,
    validation: config.validation,
    relationships: {
      facts: (resource, org, kind) => relationshipFacts(resource, org, kind),
      record: (tx, items) => recordRelationshipFacts(tx, items as ItemFacts[]),
      reassign: reassignRelationshipFacts,
    },
  };
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const refusals = productionProblems(config);
  if (refusals.length > 0) throw new ConfigError(refusals);
  const log = opts.log ?? createLogger(config.logLevel);
  const db =
    opts.db ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: opts.inMemory ? undefined : config.dataDir,
    }));
  try {
    loadSchemaValidators();
    const policy = createPolicy(config.sensitiveCodeLists);
    if (policy.problems.length > 0) {
      log.warn(
        { skipped: policy.problems.length, first: policy.problems.slice(0, 5) },
        'sensitive code lists: malformed rows skipped',
      );
    }
    const relabel = await ensureLabelsCurrent(db, policy);
    if (relabel && relabel.relabelled > 0)
      log.info(
        { relabelled: relabel.relabelled, version: policy.version },
        'sensitive code lists changed: items relabelled',
      );
    await applyRegion(db, config.organisations, config.sources);
    // Serving runs as the application's database role when one is configured (PostgreSQL): it
    // cannot update or delete audit rows. Migrations, relabelling and audit pruning use the owner.
    const appDb = withDatabaseRole(db, config.audit.databaseRole);

    const services: Services = {
      config,
      db: appDb,
      ownerDb: db,
      gate: createGate(appDb, `${config.publicUrl}/fhir`, {
        rules: { recentDays: config.access.recentDays, roles: { ...DEFAULT_ROLES, ...config.access.roles } },
        breakGlassMinutes: config.access.breakGlassMinutes,
        neverSharedOrganisation: policy.neverSharedOrganisation,
      }),
      ingest: buildIngestDeps(appDb, config, policy),
      authenticate: createTokenVerifier({
        devSecret: config.devIssuerSecret,
        sessionSecret: config.sessionSecret,
        providers: config.identityProviders,
      }),
      metrics: createMetrics(),
      log,
    };
    const server = buildServer(services);
    return {
      services,
      server,
      async close() {
        await server.close();
        if (!opts.db) await db.close();
      },
    };
  } catch (err) {
    if (!opts.db) await db.close();
    throw err;
  }
}
