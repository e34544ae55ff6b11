/**
 * Where CLI commands that read or change data do their work. With PostgreSQL, or an embedded data
 * folder no server holds, they open the database directly. When `sharedcare serve` owns the
 * embedded folder (PGlite serves one process), they go through that server's admin and ingest API
 * instead, so the folder is never opened twice.
 */
import os from 'node:os';
import { ADMIN_ROLE, CLI_ORG, DPO_ROLE, mintSourceToken, mintUserToken } from '../access/index.ts';
import {
  adminService,
  retentionRun,
  sensitivityService,
  takeBackup,
  type Actor,
  type Backup,
  type BackupManifest,
  type RetentionRunReport,
} from '../admin/index.ts';
import type { Config } from '../config/index.ts';
import { DataDirInUseError, openDatabase, type Database } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { buildIngestDeps, hl7CodeMaps, policyFromConfig } from '../app.ts';
import {
  authoriseSource,
  createHl7Intake,
  ingestFhir,
  type Hl7Intake,
  type IngestDeps,
  type IngestResult,
} from '../ingest/index.ts';
import { ensureLabelsCurrent } from '../policy/index.ts';
import { applyRegion } from '../region/index.ts';
import { directAudit, serverAudit, type AuditBackend } from './audit-commands.ts';
import type { CliActor } from './actor.ts';
import { noServer, serverUrl } from './server-file.ts';
import { directIdentity, serverIdentity, type IdentityBackend } from './identity-commands.ts';
import { directObjections, serverObjections, type ObjectionBackend } from './objection-backend.ts';
import { directSensitivity, serverSensitivity, type SensitivityBackend } from './sensitivity-backend.ts';

export interface IngestSummary {
  counts: IngestResult['counts'];
}

export interface Backend {
  readonly mode: 'direct' | 'server';
  /** how many load requests may be in flight at once (PGlite serves one at a time) */
  readonly parallelism: number;
  addOrganisation(input: unknown): Promise<unknown>;
  addSource(input: unknown): Promise<unknown>;
  listOrganisations(): Promise<unknown[]>;
  listSources(): Promise<unknown[]>;
  /** the objection register, overrides and the national data opt-out */
  objections: ObjectionBackend;
  /** the audit trail: verification, reports, alerts (src/cli/audit-commands.ts) */
  audit: AuditBackend;
  /** never-shared code lists and the review queue (src/cli/codes-commands.ts) */
  sensitivity: SensitivityBackend;
  /** the identity review queue, splits and training (src/cli/identity-commands.ts) */
  identity: IdentityBackend;
  ingest(sourceId: string, contentType: string, body: string): Promise<IngestSummary>;
  /** one HL7 v2 message as that source; resolves to the ACK (AA, AE or AR) */
  ingestHl7(sourceId: string, message: string): Promise<{ code: string; ack: string }>;
  /** processes landed HL7 v2 messages again (after a mapping fix), in arrival order */
  replayHl7(filter: { source?: string; since?: string; deadLettersOnly?: boolean }): Promise<{
    messages: number;
    counts: Record<string, number>;
  }>;
  /** `retention run`: removes (or with dryRun counts) what is past its period, as of a date */
  runRetention(input: { dryRun: boolean; asOf?: string }): Promise<RetentionRunReport>;
  /** `backup`: a consistent copy of the embedded database (through the server while it serves) */
  backup(): Promise<Backup>;
  close(): Promise<void>;
}

/**
 * Who the backend acts as, in a role: the person and organisation the command named (`--by`,
 * `--org`: required by every command that changes governance data, see actor.ts); commands that
 * only read are attributed to the machine's user at "CLI".
 */
const cliActor = (role: string, who?: CliActor): Actor =>
  who
    ? { userId: who.by, org: who.org, role }
    : { userId: `${os.userInfo().username}@cli`, org: CLI_ORG, role };

export async function directBackend(config: Config, db: Database, who?: CliActor): Promise<Backend> {
  const admin = adminService(db, {
    overrideRoles: config.policy.overrideRoles,
    ...(config.policy.regionName ? { regionName: config.policy.regionName } : {}),
  });
  let ingestDeps: IngestDeps | undefined;
  let hl7: Hl7Intake | undefined;
  const deps = async (): Promise<IngestDeps> => {
    if (!ingestDeps) {
      const policy = policyFromConfig(config);
      await ensureLabelsCurrent(db, policy);
      ingestDeps = buildIngestDeps(db, config, policy);
    }
    return ingestDeps;
  };
  const hl7Intake = async () =>
    (hl7 ??= createHl7Intake({ ingest: await deps(), codeMaps: hl7CodeMaps(config) }));
  const actor = cliActor(ADMIN_ROLE, who);
  return {
    mode: 'direct',
    parallelism: db.kind === 'postgres' ? 3 : 1,
    addOrganisation: (i) => admin.addOrganisation(actor, i),
    addSource: (i) => admin.addSource(actor, i),
    listOrganisations: () => admin.listOrganisations(),
    listSources: () => admin.listSources(),
    objections: directObjections(admin, actor, cliActor(DPO_ROLE, who)),
    audit: directAudit(db, config, cliActor(DPO_ROLE, who)),
    sensitivity: directSensitivity(sensitivityService(db, policyFromConfig(config)), actor),
    identity: directIdentity(db, config),
    runRetention: (input) => retentionRun(db, config, actor, input),
    backup: () => takeBackup(db, actor),
    async ingest(sourceId, contentType, body) {
      const source = await authoriseSource(db, sourceId, 'fhir');
      const r = await ingestFhir(await deps(), source, contentType, body);
      return { counts: r.counts };
    },
    async ingestHl7(sourceId, message) {
      const source = await authoriseSource(db, sourceId, 'hl7v2');
      const outcome = await (await hl7Intake()).receive(message, source);
      return { code: outcome.code, ack: outcome.ack };
    },
    async replayHl7(filter) {
      return (await hl7Intake()).replay({
        ...(filter.source ? { sourceId: filter.source } : {}),
        ...(filter.since ? { since: filter.since } : {}),
        ...(filter.deadLettersOnly ? { deadOnly: true } : {}),
      });
    },
    close: () => db.close(),
  };
}

async function call<T>(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
  } catch {
    throw new SharedcareError('invalid-request', noServer(base));
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) {
    const issues = (json.issue as { diagnostics?: string; expression?: string[] }[] | undefined)?.map(
      (i) => ({
        message: i.diagnostics ?? '',
        ...(i.expression?.[0] ? { expression: i.expression[0] } : {}),
      }),
    );
    const problems = (json.problems as { message: string; expression?: string }[] | undefined) ?? issues;
    throw new SharedcareError(
      res.status === 403 ? 'forbidden' : res.status === 404 ? 'not-found' : 'invalid-request',
      String(json.title ?? problems?.[0]?.message ?? `server answered ${res.status}`),
      problems,
    );
  }
  return json as T;
}

export async function serverBackend(
  config: Config,
  who?: CliActor,
  base = serverUrl(config),
): Promise<Backend> {
  if (!config.devIssuerSecret)
    throw new Error(
      'the server owns the data folder; in production mode run admin commands through the admin API with a token from your identity provider',
    );
  const tokenFor = (role: string) => {
    const a = cliActor(role, who);
    return mintUserToken(config.devIssuerSecret!, { user: a.userId, org: a.org, role, ttlSeconds: 3600 });
  };
  const admin = await tokenFor(ADMIN_ROLE);
  const dpo = await tokenFor(DPO_ROLE);
  return {
    mode: 'server',
    parallelism: 3,
    addOrganisation: (i) => call(base, admin, 'POST', '/admin/organisations', i),
    addSource: (i) => call(base, admin, 'POST', '/admin/sources', i),
    listOrganisations: () => call(base, admin, 'GET', '/admin/organisations'),
    listSources: () => call(base, admin, 'GET', '/admin/sources'),
    objections: serverObjections(
      (token, method, path, body) => call(base, token, method, path, body),
      admin,
      dpo,
    ),
    audit: serverAudit(base, dpo),
    sensitivity: serverSensitivity((method, path, body) => call(base, admin, method, path, body)),
    identity: serverIdentity((method, path, body) => call(base, admin, method, path, body)),
    runRetention: (input) => call(base, admin, 'POST', '/admin/retention/run', input),
    async ingest(sourceId, contentType, body) {
      const token = await mintSourceToken(config.devIssuerSecret!, sourceId, 3600);
      const r = await call<{ meta?: { tag?: { code: string; display: string }[] } }>(
        base,
        token,
        'POST',
        '/ingest/fhir',
        body,
        contentType,
      );
      return { counts: Object.fromEntries((r.meta?.tag ?? []).map((t) => [t.code, Number(t.display)])) };
    },
    async ingestHl7(sourceId, message) {
      const token = await mintSourceToken(config.devIssuerSecret!, sourceId, 3600);
      const res = await fetch(`${base}/ingest/hl7v2`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'x-application/hl7-v2+er7' },
        body: message,
      });
      const ack = await res.text();
      if (!res.ok)
        throw new SharedcareError(
          res.status === 403 ? 'forbidden' : 'invalid-request',
          `server answered ${res.status}`,
        );
      return { code: /\rMSA\|(A[AER])/.exec(ack)?.[1] ?? 'AR', ack };
    },
    replayHl7: (filter) => call(base, admin, 'POST', '/admin/hl7v2/replay', filter),
    async backup() {
      const res = await fetch(`${base}/admin/backup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}` },
      }).catch(() => {
        throw new SharedcareError('invalid-request', noServer(base));
      });
      if (!res.ok) {
        const problem = (await res.json().catch(() => ({}))) as { title?: string };
        throw new SharedcareError('invalid-request', problem.title ?? `server answered ${res.status}`);
      }
      const manifest = JSON.parse(res.headers.get('sharedcare-backup-manifest') ?? 'null') as BackupManifest;
      return { manifest, tarball: new Uint8Array(await res.arrayBuffer()) };
    },
    close: async () => undefined,
  };
}

/** Direct when the database can be opened here; through the server when it owns the data folder. */
export async function openBackend(config: Config, who?: CliActor): Promise<Backend> {
  try {
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      await applyRegion(db, config.organisations, config.sources);
    } catch (err) {
      await db.close();
      throw err;
    }
    return await directBackend(config, db, who);
  } catch (err) {
    if (err instanceof DataDirInUseError) return serverBackend(config, who);
    throw err;
  }
}
