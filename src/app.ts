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
import { openDatabase, pendingMigrations, type Database } from './db/index.ts';
import { loadSchemaValidators } from './fhir/index.ts';
import { createGate } from './gate/index.ts';
import { backfillMatchKeys, createPersonLinker, loadMatchRules } from './identity/index.ts';
import { createLogger } from './logging.ts';
import { databaseRoleProblems, refusalRecorder, withDatabaseRole } from './audit/index.ts';
import { sensitivityService } from './admin/index.ts';
import {
  createPolicy,
  ensureLabelsCurrent,
  refreshImported,
  settleReviews,
  moveReviews,
  readPdfAttachments,
  type Policy,
} from './policy/index.ts';
import { createHl7Intake, type IngestDeps } from './ingest/index.ts';
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
  /** the time of access decisions and audit events (default: the system clock); tests inject one */
  clock?: () => Date;
}

/** What intake needs, wired the same way for the server and the CLI's direct mode. */
/** The privacy policy as configured: code lists, term lists, the region's rules. */
export function policyFromConfig(config: Config): Policy {
  return createPolicy(config.sensitiveCodeLists, {
    termLists: config.sensitiveTermLists,
    showNegativeScreening: config.policy.showNegativeScreening ?? false,
  });
}

export function buildIngestDeps(db: Database, config: Config, policy: Policy): IngestDeps {
  return {
    db,
    linker: createPersonLinker(loadMatchRules(config.identityRules)),
    classify: policy.classify,
    readAttachments: readPdfAttachments,
    settleReviews: (tx, items) => settleReviews(tx, policy.explain, items),
    moveReviews,
    refreshLists: (q) => refreshImported(q, policy),
    validation: config.validation,
    relationships: {
      facts: (resource, org, kind) => relationshipFacts(resource, org, kind),
      record: (tx, items) => recordRelationshipFacts(tx, items as ItemFacts[]),
      reassign: reassignRelationshipFacts,
    },
  };
}

/** Each HL7 v2 source's local code mappings, from the configuration. */
export function hl7CodeMaps(config: Config): Record<string, Record<string, Record<string, string>>> {
  return Object.fromEntries(config.sources.filter((s) => s.codeMap).map((s) => [s.id, s.codeMap!]));
}

/**
 * Opens the database. In production mode the server connects as the application's role, which
 * cannot migrate, so it only checks that migrations are at head; and it refuses to start, listing
 * every problem at once, unless the configuration (productionProblems) and the role it connects
 * as (databaseRoleProblems) are fit for production.
 */
async function openServingDatabase(config: Config, opts: AppOptions): Promise<Database> {
  const problems = productionProblems(config);
  if (!config.production) {
    if (problems.length > 0) throw new ConfigError(problems);
    if (opts.db) return opts.db;
    const db = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: opts.inMemory ? undefined : config.dataDir,
    });
    // a server that migrates also brings source records' match keys up to date (one indexed query
    // when there is nothing to do); in production `sharedcare migrate` does it
    await backfillMatchKeys(db);
    return db;
  }
  let db = opts.db;
  if (!db && config.databaseUrl) {
    try {
      db = await openDatabase({ databaseUrl: config.databaseUrl, migrate: false });
    } catch (err) {
      problems.push(`cannot connect to DATABASE_URL: ${(err as Error).message}`);
    }
  }
  if (db?.kind === 'postgres') {
    const role = config.audit.databaseRole;
    problems.push(
      ...(await databaseRoleProblems(db, role).catch((err: Error) => [
        `cannot check the database role: ${err.message}`,
      ])),
    );
    const pending = await pendingMigrations(withDatabaseRole(db, role)).then(
      (p) => (p.length ? `lacks ${p.length} migration(s) (${p[0]}…)` : undefined),
      (err: Error) => `cannot be read for its migrations (${err.message})`,
    );
    if (pending)
      problems.push(
        `the database ${pending}: run \`sharedcare migrate\` with the owner's URL in SHAREDCARE_OWNER_DATABASE_URL`,
      );
  }
  if (problems.length > 0) {
    if (db && !opts.db) await db.close();
    throw new ConfigError(problems);
  }
  return db!;
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const db = await openServingDatabase(config, opts);
  const log = opts.log ?? createLogger(config.logLevel);
  try {
    loadSchemaValidators();
    const policy = policyFromConfig(config);
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
    // cannot update or delete audit rows. Outside production, migrations, relabelling and audit
    // pruning use the connecting owner; in production the connection itself is the application's
    // role (checked above), and migrations and audit pruning are run by `sharedcare migrate` and
    // `sharedcare retention run` with the owner's URL.
    const appDb = withDatabaseRole(db, config.audit.databaseRole);

    const metrics = createMetrics();
    const ingest = buildIngestDeps(appDb, config, policy);
    const services: Services = {
      config,
      db: appDb,
      ownerDb: db,
      gate: createGate(appDb, `${config.publicUrl}/fhir`, {
        rules: { recentDays: config.access.recentDays, roles: { ...DEFAULT_ROLES, ...config.access.roles } },
        breakGlassMinutes: config.access.breakGlassMinutes,
        neverSharedOrganisation: policy.neverSharedOrganisation,
        classify: policy.classify,
        ...(opts.clock ? { clock: opts.clock } : {}),
      }),
      ingest,
      hl7: createHl7Intake({
        ingest,
        codeMaps: hl7CodeMaps(config),
        onOutcome: (source, ack) => metrics.hl7Messages.inc({ source, ack }),
      }),
      sensitivity: sensitivityService(db, policy),
      authenticate: createTokenVerifier({
        devSecret: config.devIssuerSecret,
        sessionSecret: config.sessionSecret,
        providers: config.identityProviders,
      }),
      refusals: refusalRecorder(appDb, {
        onError: (err) => log.error({ err }, 'a refused request could not be recorded in the audit trail'),
      }),
      metrics,
      log,
      devLinks: [],
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
