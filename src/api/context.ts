import type { Logger } from 'pino';
import type { Principal } from '../access/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { Gate } from '../gate/index.ts';
import type { IngestDeps } from '../ingest/index.ts';
import type { SensitivityService } from '../admin/index.ts';
import type { Metrics } from './metrics.ts';

/** Everything the HTTP layer needs, wired once in src/app.ts. */
export interface Services {
  config: Config;
  /** the database as the application's role (see audit.databaseRole) */
  db: Database;
  /** the owner's connection: only for maintenance (retention, audit pruning) */
  ownerDb: Database;
  gate: Gate;
  ingest: IngestDeps;
  /** the never-shared lists in force and the review queue (imported lists can change while serving) */
  sensitivity: SensitivityService;
  authenticate: (bearer: string) => Promise<Principal>;
  metrics: Metrics;
  log: Logger;
}
