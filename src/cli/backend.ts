/**
 * Where CLI commands that read or change data do their work. With PostgreSQL, or an embedded data
 * folder no server holds, they open the database directly. When `sharedcare serve` owns the
 * embedded folder (PGlite serves one process), they go through that server's admin and ingest API
 * instead, so the folder is never opened twice.
 */
import os from 'node:os';
import { ADMIN_ROLE, DPO_ROLE, mintSourceToken, mintUserToken } from '../access/index.ts';
import { adminService, retentionRun, type Actor, type RetentionRunReport } from '../admin/index.ts';
import type { Config } from '../config/index.ts';
import { DataDirInUseError, openDatabase, type Database } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { buildIngestDeps } from '../app.ts';
import { authoriseSource, ingestFhir, type IngestResult } from '../ingest/index.ts';
import { createPolicy, ensureLabelsCurrent } from '../policy/index.ts';
import { applyRegion } from '../region/index.ts';
import { directAudit, serverAudit, type AuditBackend } from './audit-commands.ts';
import { directIdentity, serverIdentity, type IdentityBackend } from './identity-commands.ts';
import { directObjections, serverObjections, type ObjectionBackend } from './objection-backend.ts';

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
  /** the identity review queue, splits and training (src/cli/identity-commands.ts) */
  identity: IdentityBackend;
  ingest(sourceId: string, contentType: string, body: string): Promise<IngestSummary>;
  /** `retention run`: removes (or with dryRun counts) what is past its period, as of a date */
  runRetention(input: { dryRun: boolean; asOf?: string }): Promise<RetentionRunReport>;
  close(): Promise<void>;
}

const cliActor = (role: string): Actor => ({ userId: `${os.userInfo().username}@cli`, org: 'CLI', role });

export async function directBackend(config: Config, db: Database): Promise<Backend> {
  const admin = adminService(db, {
    overrideRoles: config.policy.overrideRoles,
    ...(config.policy.regionName ? { regionName: config.policy.regionName } : {}),
  });
  let ingestDeps: Parameters<typeof ingestFhir>[0] | undefined;
  const actor = cliActor(ADMIN_ROLE);
  return {
    mode: 'direct',
    parallelism: db.kind === 'postgres' ? 3 : 1,
    addOrganisation: (i) => admin.addOrganisation(actor, i),
    addSource: (i) => admin.addSource(actor, i),
    listOrganisations: () => admin.listOrganisations(),
    listSources: () => admin.listSources(),
    objections: directObjections(admin, actor, cliActor(DPO_ROLE)),
    audit: directAudit(db, config, cliActor(DPO_ROLE)),
    identity: directIdentity(db, config),
    runRetention: (input) => retentionRun(db, config, actor, input),
    async ingest(sourceId, contentType, body) {
      if (!ingestDeps) {
        const policy = createPolicy(config.sensitiveCodeLists);
        await ensureLabelsCurrent(db, policy);
        ingestDeps = buildIngestDeps(db, config, policy);
      }
      const source = await authoriseSource(db, sourceId, 'fhir');
      const r = await ingestFhir(ingestDeps, source, contentType, body);
      return { counts: r.counts };
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
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': contentType } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
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

export async function serverBackend(config: Config): Promise<Backend> {
  if (!config.devIssuerSecret)
    throw new Error(
      'the server owns the data folder; in production mode run admin commands through the admin API with a token from your identity provider',
    );
  const base = config.publicUrl;
  const admin = await mintUserToken(config.devIssuerSecret, {
    user: `${os.userInfo().username}@cli`,
    org: 'CLI',
    role: ADMIN_ROLE,
    ttlSeconds: 3600,
  });
  const dpo = await mintUserToken(config.devIssuerSecret, {
    user: `${os.userInfo().username}@cli`,
    org: 'CLI',
    role: DPO_ROLE,
    ttlSeconds: 3600,
  });
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
    close: async () => undefined,
  };
}

/** Direct when the database can be opened here; through the server when it owns the data folder. */
export async function openBackend(config: Config): Promise<Backend> {
  try {
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      await applyRegion(db, config.organisations, config.sources);
    } catch (err) {
      await db.close();
      throw err;
    }
    return await directBackend(config, db);
  } catch (err) {
    if (err instanceof DataDirInUseError) return serverBackend(config);
    throw err;
  }
}
