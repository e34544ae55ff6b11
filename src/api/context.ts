import type { Logger } from 'pino';
import type { Principal } from '../access/index.ts';
import type { RefusalRecorder } from '../admin/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { Gate } from '../gate/index.ts';
import type { Hl7Intake, IngestDeps } from '../ingest/index.ts';
import type { DevLink } from './landing.ts';
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
  /** HL7 v2 intake (MLLP, HTTP, batch files) */
  hl7: Hl7Intake;
  /** the never-shared lists in force and the review queue (imported lists can change while serving) */
  sensitivity: SensitivityService;
  authenticate: (bearer: string) => Promise<Principal>;
  /** records requests refused before the gate (no or bad token, wrong kind of caller or role) */
  refusals: RefusalRecorder;
  metrics: Metrics;
  log: Logger;
  /** development only: the demo launch links the landing page lists (`sharedcare demo` adds them) */
  devLinks: DevLink[];
}
