/**
 * Typed configuration. The only module that reads process.env; everything else receives a Config.
 * Sources, in order of precedence: command-line overrides, environment, the --config file, defaults.
 * Every problem is listed at once (not just the first) so an operator can fix the lot in one go.
 */
import { isIP } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { dataSetInput } from '../region/index.ts';
import { DEV_SECRET_DEFAULT, DEV_SESSION_SECRET_DEFAULT } from './secrets.ts';

export { DEV_SECRET_DEFAULT, estimateEntropyBits } from './secrets.ts';
export { productionProblems } from './production.ts';

const organisationSchema = z.object({
  ods: z.string().regex(/^[A-Z0-9]{3,10}$/, 'an ODS code is 3 to 10 capital letters or digits'),
  name: z.string().min(1),
  contributes: z.boolean().default(false),
  views: z.boolean().default(false),
  kind: z.string().optional(),
  /** what it declares it shares: { categories: [...], from: 'YYYY-MM-DD' } (the sources panel) */
  dataSet: dataSetInput.optional(),
});

const sourceSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a source id is lower-case letters, digits and dashes'),
  org: z.string(),
  kind: z.enum(['fhir', 'hl7v2', 'batch']),
  name: z.string().optional(),
  /**
   * HL7 v2: the source's local codes mapped to standard ones, by code table (clinic, ward,
   * hospital-service, a test code table…): { clinic: { GUM1: 'https://…/treatment-function|360' } }.
   * The standard code is added beside the local one, so never-shared rules and readers see both.
   */
  /**
   * HL7 v2 over MLLP: connections that belong to this source, by TLS client-certificate common
   * name or by peer IP address. A message on such a connection whose MSH-3/MSH-4 name another
   * source is refused (AR).
   */
  mllp: z
    .object({
      certificates: z.array(z.string().min(1)).optional(),
      addresses: z
        .array(z.string().refine((a) => isIP(a) !== 0, 'an MLLP peer address is an IP address'))
        .optional(),
    })
    .optional(),
  codeMap: z
    .record(
      z.string(),
      z.record(z.string(), z.string().regex(/^\S+\|\S+$/, 'a mapped code is written "system|code"')),
    )
    .optional(),
});

const identityProviderSchema = z.object({
  /** the issuer exactly as it appears in tokens' iss claim */
  issuer: z.string().url(),
  /** where its signing keys are; discovered from /.well-known/openid-configuration when absent */
  jwksUri: z.string().url().optional(),
  /** the audience tokens must carry for Sharedcare */
  audience: z.string().default('sharedcare'),
  /** what its tokens are for: staff (users), source systems (sources), or both */
  for: z.enum(['users', 'sources', 'both']).default('users'),
  /**
   * the longest lifetime (exp after iat, or after now without iat) a token may claim; exp is
   * required. Default 12 hours (src/access/token-verifier.ts, DEFAULT_MAX_TOKEN_LIFETIME_MINUTES).
   */
  maxTokenLifetimeMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .optional(),
  /**
   * How claims map to Sharedcare's user: 'cis2' reads NHS Care Identity Service 2 claims
   * (selected_roleid matched in nhsid_nrbac_roles for the organisation and role code);
   * 'simple' reads the named claims.
   */
  claims: z
    .object({
      style: z.enum(['cis2', 'simple']).default('simple'),
      user: z.string().default('sub'),
      name: z.string().default('name'),
      /** the user's home postcode, for an audit alert (default: OpenID Connect's address claim) */
      postcode: z.string().optional(),
      org: z.string().default('org'),
      role: z.string().default('role'),
      /** for source systems: the claim naming the source id */
      source: z.string().default('client_id'),
    })
    .default({ style: 'simple', user: 'sub', name: 'name', org: 'org', role: 'role', source: 'client_id' }),
  /**
   * Lets administrators and the data protection officer sign in to Sharedcare itself (SMART
   * standalone launch) through this provider: Sharedcare is registered with it as an OpenID Connect
   * client. Clinicians never sign in here; they arrive from their clinical system.
   */
  signIn: z
    .object({
      clientId: z.string().min(1),
      /** for a confidential client; keep the config file readable only by the service */
      clientSecret: z.string().min(1).optional(),
      scope: z.string().default('openid profile'),
    })
    .strict()
    .optional(),
});

export type IdentityProviderConfig = z.infer<typeof identityProviderSchema>;

const smartClientSchema = z.object({
  clientId: z.string().min(1),
  redirectUris: z.array(z.string().url()).min(1),
});
export type SmartClientConfig = z.infer<typeof smartClientSchema>;

/**
 * Retention (`sharedcare retention run`, src/retention): periods in whole years, and organisations
 * whose every item counts as maternity or mental health (besides those recognised by code or kind).
 */
const retentionYears = (fallback: number, min: number) =>
  z
    .number({ error: `a period is a whole number of years (${min} to 100)` })
    .int(`a period is a whole number of years (${min} to 100)`)
    .min(min, `a period is a whole number of years (${min} to 100)`)
    .max(100, `a period is a whole number of years (${min} to 100)`)
    .default(fallback);
const odsList = z
  .array(z.string().regex(/^[A-Z0-9]{3,10}$/, 'an ODS code is 3 to 10 capital letters or digits'))
  .default([]);
const retentionSchema = z
  .object({
    /** adults: years after the last contact */
    adultYears: retentionYears(8, 1),
    /** children (under 18 at the last contact): kept until this birthday… */
    childUntilBirthday: retentionYears(25, 18),
    /** …or this one if they were 17 at the last contact */
    childAged17UntilBirthday: retentionYears(26, 18),
    /** maternity items: years after the last maternity contact */
    maternityYears: retentionYears(25, 1),
    /** mental-health items: years after the last mental-health contact */
    mentalHealthYears: retentionYears(20, 1),
    maternityOrganisations: odsList,
    mentalHealthOrganisations: odsList,
  })
  .strict();
export type RetentionConfig = z.infer<typeof retentionSchema>;

const accessSchema = z
  .object({
    /** a closed episode, encounter, appointment or referral counts as a relationship this long */
    recentDays: z.number().int().min(0).max(3650).default(365),
    breakGlassMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .default(60),
    /** role code → kind of access; merged over the defaults in src/access/roles.ts */
    roles: z.record(z.string(), z.enum(['clinical', 'social-care', 'clerical', 'dpo', 'admin'])).default({}),
  })
  .strict();
export type AccessConfig = z.infer<typeof accessSchema>;

/** The privacy policy's own settings (src/policy); the code lists are `sensitiveCodeLists`. */
const policySchema = z
  .object({
    /** roles that may override an objection (safeguarding or public interest only) */
    overrideRoles: z.array(z.string().min(1)).min(1).default(['sharedcare-dpo', 'caldicott-guardian']),
    /** the region's name, as the notice to a person calls its record ("the Northdale Shared Care Record") */
    regionName: z.string().min(1).optional(),
    /** the region shows negative screening results: "HIV negative" is not withheld for its words */
    showNegativeScreening: z.boolean().optional(),
  })
  .strict();
export type PolicyConfig = z.infer<typeof policySchema>;

/** The audit trail: its retention, signed checkpoints and the DPO's alert rules (docs/audit.md). */
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time is HH:MM (24-hour)');
const auditFileSchema = z
  .object({
    /** years the trail is kept; longer than any clinical retention (25 years for children's records) */
    retentionYears: z.number().int().min(8).max(100).default(26),
    checkpointDir: z.string().optional(),
    /** minutes between signed checkpoints of the chain heads while serving; 0 = only on demand */
    checkpointMinutes: z.number().int().min(0).max(1440).default(10),
    signingKeyFile: z.string().optional(),
    /** where each checkpoint is also copied, out of reach of whoever holds the database (docs/audit.md) */
    witness: z
      .object({
        /** a folder on another mount or machine (NFS, a write-once bucket mounted as a folder) */
        directory: z.string().min(1).optional(),
        /** a second PostgreSQL database, ideally another party's, where the login may only INSERT and SELECT */
        database: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
          .optional(),
      })
      .strict()
      .default({}),
    /** a PostgreSQL role without UPDATE/DELETE on the trail, taken with SET ROLE after migrations */
    databaseRole: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .optional(),
    alerts: z
      .object({
        breakGlass: z.boolean().default(true),
        noRelationship: z.boolean().default(true),
        sameName: z.boolean().default(true),
        /** a record sharing the user's surname and home postcode (needs the address claim) */
        sameAddress: z.boolean().default(true),
        objectionOverride: z.boolean().default(true),
        manyRecords: z
          .object({
            enabled: z.boolean().default(true),
            /** this many different people opened by one user within `minutes` */
            persons: z.number().int().min(2).default(25),
            minutes: z.number().int().min(1).max(1440).default(15),
          })
          .prefault({}),
        outOfHours: z
          .object({
            enabled: z.boolean().default(true),
            timezone: z.string().default('Europe/London'),
            start: hhmm.default('08:00'),
            end: hhmm.default('18:30'),
            /** ISO weekdays that are working days (1 = Monday) */
            days: z.array(z.number().int().min(1).max(7)).default([1, 2, 3, 4, 5]),
            holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]),
            /** organisations that work around the clock (e.g. emergency departments) */
            exemptOrganisations: z.array(z.string()).default([]),
          })
          .prefault({}),
        protectedPersons: z
          .object({
            enabled: z.boolean().default(true),
            /** Patient.meta.security codes (v3-Confidentiality) that flag a person */
            securityCodes: z.array(z.string()).default(['R', 'V']),
            nhsNumbers: z.array(z.string().regex(/^\d{10}$/)).default([]),
          })
          .prefault({}),
        /** the same rule for the same user and person raises one alert in this many minutes */
        dedupeMinutes: z.number().int().min(0).max(10080).default(60),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type AuditConfig = Omit<z.infer<typeof auditFileSchema>, 'checkpointDir' | 'signingKeyFile'> & {
  checkpointDir: string;
  signingKeyFile: string;
};

/** Env over file over defaults; the checkpoint folder and signing key default to the data folder. */
function auditConfig(
  file: z.infer<typeof auditFileSchema> | undefined,
  env: NodeJS.ProcessEnv,
  dataDir: string,
  base: string,
  problems: string[],
): AuditConfig {
  const a = file ?? auditFileSchema.parse({});
  const role = env.SHAREDCARE_DB_ROLE || a.databaseRole;
  if (role && !/^[a-z_][a-z0-9_]{0,62}$/.test(role))
    problems.push('SHAREDCARE_DB_ROLE must be a plain PostgreSQL role name (lower-case letters, digits, _)');
  const dir = env.SHAREDCARE_AUDIT_CHECKPOINT_DIR || (a.checkpointDir && path.resolve(base, a.checkpointDir));
  const key = env.SHAREDCARE_AUDIT_KEY_FILE || (a.signingKeyFile && path.resolve(base, a.signingKeyFile));
  const witnessDir =
    env.SHAREDCARE_AUDIT_WITNESS_DIR || (a.witness.directory && path.resolve(base, a.witness.directory));
  const witnessDb = env.SHAREDCARE_AUDIT_WITNESS_DATABASE_URL || a.witness.database;
  if (witnessDb && !/^postgres(ql)?:\/\//.test(witnessDb))
    problems.push('SHAREDCARE_AUDIT_WITNESS_DATABASE_URL must start with postgres:// or postgresql://');
  return {
    ...a,
    ...(role ? { databaseRole: role } : {}),
    checkpointDir: path.resolve(dir || path.join(dataDir, 'audit-checkpoints')),
    signingKeyFile: path.resolve(key || path.join(dataDir, 'audit-signing-key.jwk')),
    witness: {
      ...(witnessDir ? { directory: path.resolve(witnessDir) } : {}),
      ...(witnessDb ? { database: witnessDb } : {}),
    },
  };
}

/** The audit defaults, as a server with no audit configuration would run (tools and tests). */
export function defaultAuditConfig(dataDir = path.resolve('.sharedcare')): AuditConfig {
  return auditConfig(undefined, {}, dataDir, '.', []);
}

const fileSchema = z
  .object({
    access: accessSchema.default({ recentDays: 365, breakGlassMinutes: 60, roles: {} }),
    policy: policySchema.default({ overrideRoles: ['sharedcare-dpo', 'caldicott-guardian'] }),
    audit: auditFileSchema.optional(),
    retention: retentionSchema.prefault({}),
    smartClients: z.array(smartClientSchema).default([]),
    identityProviders: z.array(identityProviderSchema).default([]),
    organisations: z.array(organisationSchema).default([]),
    sources: z.array(sourceSchema).default([]),
    sensitiveCodeLists: z.array(z.string()).optional(),
    sensitiveTermLists: z.array(z.string()).optional(),
    devIssuerSecret: z.string().optional(),
    /** origins of the clinical systems that may embed the viewer in a frame (CSP frame-ancestors) */
    frameAncestors: z.array(z.string()).optional(),
  })
  .strict();

export type OrganisationConfig = z.infer<typeof organisationSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;

export interface Config {
  production: boolean;
  host: string;
  port: number;
  mllpPort: number;
  /** where the MLLP listener binds (SHAREDCARE_MLLP_HOST; default: the HTTP host, loopback) */
  mllpHost: string;
  /** TLS for MLLP: certificate and key files, and a CA file to require client certificates */
  mllpTls: { cert: string; key: string; ca?: string } | undefined;
  /** the base URL clients reach this server at; fullUrls in Bundles are built from it */
  publicUrl: string;
  databaseUrl: string | undefined;
  /**
   * The tables' owner, for `sharedcare migrate` only (SHAREDCARE_OWNER_DATABASE_URL). In production
   * the server connects with DATABASE_URL as the application's role and never holds this one.
   */
  ownerDatabaseUrl: string | undefined;
  dataDir: string;
  logLevel: string;
  /** HS256 secret of the built-in development issuer; undefined in production mode. */
  devIssuerSecret: string | undefined;
  /** how strictly intake validates: 'schema' (FHIR JSON Schema) or 'full' (+ StructureDefinitions) */
  validation: 'schema' | 'full';
  /** the identity match rules in force (SHAREDCARE_IDENTITY_RULES); undefined: config/identity-rules.json */
  identityRules: string | undefined;
  /** CSV or FHIR ValueSet files listing codes that must never be shared. */
  sensitiveCodeLists: string[];
  /** the free-text screen's term lists (YAML); the shipped one by default */
  sensitiveTermLists: string[];
  organisations: OrganisationConfig[];
  sources: SourceConfig[];
  /** relationship window, break-glass duration, extra role mappings */
  access: AccessConfig;
  /** who may override objections; the region's name for notices */
  policy: PolicyConfig;
  /** audit retention, checkpoints, alert rules, the database role (SHAREDCARE_DB_ROLE) */
  audit: AuditConfig;
  /** retention periods for `sharedcare retention run` */
  retention: RetentionConfig;
  /** SMART apps allowed to launch (the built-in viewer is always one) */
  smartClients: SmartClientConfig[];
  /** HS256 secret for Sharedcare's own session tokens (issued by the SMART launch) */
  sessionSecret: string;
  /** the identity providers whose tokens are trusted (the development issuer aside) */
  identityProviders: IdentityProviderConfig[];
  /** origins allowed to frame Sharedcare's pages (the viewer in a clinical system); none by default */
  frameAncestors: string[];
  /** where /metrics is served in production: its own listener, on loopback by default */
  metricsHost: string;
  metricsPort: number;
  /** requests per minute one client address may make (SHAREDCARE_RATE_LIMIT), shared by all processes; 0: no limit */
  rateLimitPerMinute: number;
  /**
   * Tests only (SHAREDCARE_EXPOSE_WORKER=1): each answer names the server process that served it
   * (x-sharedcare-worker), so a test can see requests land on different workers. Refused in production.
   */
  exposeWorker: boolean;
  configFile: string | undefined;
}

export interface ConfigOverrides {
  port?: number;
  mllpPort?: number;
  configFile?: string;
  production?: boolean;
  host?: string;
}

function mllpTls(env: Record<string, string | undefined>, problems: string[]): Config['mllpTls'] {
  const cert = env.SHAREDCARE_MLLP_TLS_CERT;
  const key = env.SHAREDCARE_MLLP_TLS_KEY;
  if (!cert && !key) return undefined;
  if (!cert || !key) {
    problems.push('MLLP over TLS needs both SHAREDCARE_MLLP_TLS_CERT and SHAREDCARE_MLLP_TLS_KEY');
    return undefined;
  }
  return { cert, key, ...(env.SHAREDCARE_MLLP_TLS_CA ? { ca: env.SHAREDCARE_MLLP_TLS_CA } : {}) };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export const projectRoot = path.resolve(import.meta.dirname, '..', '..');
export const DEFAULT_SENSITIVE_CODES = path.join(projectRoot, 'config', 'sensitive-codes.csv');
/**
 * The lists shipped with the project, written from public definitions (config/sensitive/): every
 * category in every coding system, services and a SNOMED CT hierarchy sample. Always in force, with
 * whatever a region adds: a region that loads nothing else leaks none of issue 12's shapes.
 */
export const SHIPPED_SENSITIVE_LISTS = readdirSync(path.join(projectRoot, 'config', 'sensitive'))
  .filter((f) => f.endsWith('.csv'))
  .sort()
  .map((f) => path.join(projectRoot, 'config', 'sensitive', f));
export const DEFAULT_SENSITIVE_TERMS = path.join(projectRoot, 'config', 'sensitive-terms.yaml');

function readConfigFile(file: string, problems: string[]): z.infer<typeof fileSchema> | undefined {
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    problems.push(`cannot read config file ${file}: ${(err as Error).message}`);
    return undefined;
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    return undefined;
  }
  return parsed.data;
}

function parsePort(
  name: string,
  value: string | number | undefined,
  fallback: number,
  problems: string[],
): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    problems.push(`${name} must be a port number from 0 to 65535 (got "${value}")`);
    return fallback;
  }
  return n;
}

function rateLimit(value: string | undefined, problems: string[]): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,7}$/.test(value)) {
    problems.push(
      'SHAREDCARE_RATE_LIMIT must be a whole number of requests per minute per client (0: no limit)',
    );
    return 0;
  }
  return Number(value);
}

/** Origins (scheme://host[:port]) that may frame the viewer: env (space-separated) over the file. */
function frameAncestors(env: string | undefined, file: string[] | undefined, problems: string[]): string[] {
  const list = env !== undefined ? env.split(/[\s,]+/).filter(Boolean) : (file ?? []);
  for (const origin of list)
    if (!/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(origin))
      problems.push(`frameAncestors: ${origin} is not an origin such as https://gp-system.example.nhs.uk`);
  return list;
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const configFile = overrides.configFile ?? env.SHAREDCARE_CONFIG;
  const file = configFile ? readConfigFile(configFile, problems) : undefined;
  const production = overrides.production === true || env.NODE_ENV === 'production';

  let devIssuerSecret: string | undefined =
    env.SHAREDCARE_DEV_SECRET ?? file?.devIssuerSecret ?? DEV_SECRET_DEFAULT;
  if (production) devIssuerSecret = undefined;
  else if (devIssuerSecret.length < 32) problems.push('SHAREDCARE_DEV_SECRET must be at least 32 characters');

  if (env.SHAREDCARE_VALIDATION && !['schema', 'full'].includes(env.SHAREDCARE_VALIDATION)) {
    problems.push('SHAREDCARE_VALIDATION must be schema or full');
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  const ownerDatabaseUrl = env.SHAREDCARE_OWNER_DATABASE_URL || undefined;
  for (const [name, url] of [
    ['DATABASE_URL', databaseUrl],
    ['SHAREDCARE_OWNER_DATABASE_URL', ownerDatabaseUrl],
  ] as const)
    if (url && !/^postgres(ql)?:\/\//.test(url))
      problems.push(`${name} must start with postgres:// or postgresql://`);

  const lists = env.SHAREDCARE_SENSITIVE_CODES
    ? env.SHAREDCARE_SENSITIVE_CODES.split(path.delimiter).filter(Boolean)
    : (file?.sensitiveCodeLists?.map((p) => path.resolve(path.dirname(configFile ?? '.'), p)) ?? [
        DEFAULT_SENSITIVE_CODES,
      ]);

  const config: Config = {
    production,
    host: overrides.host ?? env.SHAREDCARE_HOST ?? '127.0.0.1',
    port: parsePort('port', overrides.port ?? env.PORT, 8080, problems),
    mllpPort: parsePort('MLLP port', overrides.mllpPort ?? env.SHAREDCARE_MLLP_PORT, 2575, problems),
    mllpHost: env.SHAREDCARE_MLLP_HOST ?? overrides.host ?? env.SHAREDCARE_HOST ?? '127.0.0.1',
    mllpTls: mllpTls(env, problems),
    publicUrl: '',
    databaseUrl,
    ownerDatabaseUrl,
    dataDir: path.resolve(env.SHAREDCARE_DATA_DIR ?? '.sharedcare'),
    logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    devIssuerSecret,
    sensitiveCodeLists: [
      ...SHIPPED_SENSITIVE_LISTS,
      ...lists.filter((l) => !SHIPPED_SENSITIVE_LISTS.includes(l)),
    ],
    sensitiveTermLists: [
      DEFAULT_SENSITIVE_TERMS,
      ...(file?.sensitiveTermLists?.map((p) => path.resolve(path.dirname(configFile ?? '.'), p)) ?? []),
    ],
    validation: env.SHAREDCARE_VALIDATION === 'full' ? 'full' : 'schema',
    identityRules: env.SHAREDCARE_IDENTITY_RULES ? path.resolve(env.SHAREDCARE_IDENTITY_RULES) : undefined,
    organisations: file?.organisations ?? [],
    sources: file?.sources ?? [],
    identityProviders: file?.identityProviders ?? [],
    smartClients: file?.smartClients ?? [],
    retention: file?.retention ?? retentionSchema.parse({}),
    access: file?.access ?? { recentDays: 365, breakGlassMinutes: 60, roles: {} },
    policy: file?.policy ?? { overrideRoles: ['sharedcare-dpo', 'caldicott-guardian'] },
    audit: {} as AuditConfig,
    sessionSecret: env.SHAREDCARE_SESSION_SECRET ?? (production ? '' : DEV_SESSION_SECRET_DEFAULT),
    frameAncestors: frameAncestors(env.SHAREDCARE_FRAME_ANCESTORS, file?.frameAncestors, problems),
    metricsHost: env.SHAREDCARE_METRICS_HOST ?? '127.0.0.1',
    metricsPort: parsePort('SHAREDCARE_METRICS_PORT', env.SHAREDCARE_METRICS_PORT, 9464, problems),
    rateLimitPerMinute: rateLimit(env.SHAREDCARE_RATE_LIMIT, problems),
    exposeWorker: env.SHAREDCARE_EXPOSE_WORKER === '1',
    configFile,
  };
  config.audit = auditConfig(file?.audit, env, config.dataDir, path.dirname(configFile ?? '.'), problems);
  config.publicUrl = (
    env.SHAREDCARE_PUBLIC_URL ??
    `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`
  ).replace(/\/$/, '');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
