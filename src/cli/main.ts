/**
 * The `sharedcare` command. Each sub-command validates its options, does one thing, and on bad
 * input prints what to fix and exits non-zero without changing anything.
 */
import cluster from 'node:cluster';
import { Command, Option } from 'commander';
import { mintSourceToken, mintUserToken } from '../access/index.ts';
import { migrate, openDatabase } from '../db/index.ts';
import { ConfigError, loadConfig, type Config, type ConfigOverrides } from '../config/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { writeIdentityNoise, writeRegion } from '../generate/index.ts';
import { backfillMatchKeys } from '../identity/index.ts';
import { actorOptions, requireActor, type CliActor } from './actor.ts';
import { openBackend, type Backend } from './backend.ts';
import { demo } from './demo.ts';
import { launchUrl } from './launch.ts';
import { registerAuditCommands } from './audit-commands.ts';
import { registerIdentityCommands } from './identity-commands.ts';
import { registerObjectionCommands } from './objection-commands.ts';
import { formatLoadSummary, LoadAborted, loadFiles } from './load.ts';
import { registerRetentionCommand } from './retention.ts';
import { registerCodesCommands } from './codes-commands.ts';
import { registerBackupCommands } from './backup-commands.ts';
import { serve } from './serve.ts';
import { runWorkers, workerCount } from './workers.ts';
import { resolvePort } from './server-file.ts';

function config(
  opts: { config?: string; port?: string; mllpPort?: string; production?: boolean; host?: string } = {},
): Config {
  const overrides: ConfigOverrides = {};
  if (opts.config) overrides.configFile = opts.config;
  if (opts.port !== undefined) overrides.port = Number(opts.port);
  if (opts.mllpPort !== undefined) overrides.mllpPort = Number(opts.mllpPort);
  if (opts.production) overrides.production = true;
  if (opts.host) overrides.host = opts.host;
  return loadConfig(overrides);
}

/** `actor`: who is acting, for commands that change governance data (see actor.ts). */
async function withBackend<T>(
  fn: (b: Backend) => Promise<T>,
  opts: { config?: string; actor?: CliActor } = {},
): Promise<T> {
  const backend = await openBackend(config(opts), opts.actor);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

const print = (v: unknown): void => {
  process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`);
};

function devSecret(c: Config): string {
  if (!c.devIssuerSecret)
    throw new SharedcareError(
      'forbidden',
      'the development issuer is refused in production mode; tokens come from your identity provider',
    );
  return c.devIssuerSecret;
}

export function buildProgram(): Command {
  const program = new Command('sharedcare')
    .description('Sharedcare: a shared care record for a health and care region')
    .showHelpAfterError();
  const configOpt = () => new Option('--config <file>', 'configuration file (JSON or YAML)');

  program
    .command('serve')
    .description(
      'run the server (HTTP; database from DATABASE_URL or embedded PGlite in SHAREDCARE_DATA_DIR)',
    )
    .option('--port <n>', 'HTTP port (default 8080; 0 picks a free one)')
    .option('--mllp-port <n>', 'HL7 v2 MLLP port (default 2575; 0 picks a free one)')
    .option('--host <addr>', 'address to listen on (default 127.0.0.1)')
    .addOption(configOpt())
    .option('--production', 'production mode: the development issuer is refused')
    .option(
      '--workers <n>',
      'server processes on one port (default: one per core on PostgreSQL; 1 on the embedded database)',
    )
    .action(async (o: Parameters<typeof config>[0] & { workers?: string }) => {
      const c = await resolvePort(config(o));
      const workers = workerCount(o.workers, c);
      if (workers > 1 && cluster.isPrimary) await runWorkers(c, workers, process.argv);
      else await serve(c);
    });

  program
    .command('migrate')
    .description(
      "bring the database schema up to date as the tables' owner (SHAREDCARE_OWNER_DATABASE_URL, else DATABASE_URL, else the embedded folder); a production server does not migrate",
    )
    .addOption(configOpt())
    .action(async (o) => {
      const c = config(o);
      const db = await openDatabase({
        databaseUrl: c.ownerDatabaseUrl ?? c.databaseUrl,
        dataDir: c.dataDir,
        migrate: false,
      });
      try {
        const applied = await migrate(db);
        print(applied.length ? `applied ${applied.join(', ')}` : 'the schema is up to date');
        const keyed = await backfillMatchKeys(db);
        if (keyed.records > 0) print(`match keys computed for ${keyed.records} source records`);
      } finally {
        await db.close();
      }
    });

  program
    .command('demo')
    .description('as serve, after loading a synthetic region into an empty database')
    .option('--port <n>', 'HTTP port (default 8080; 0 picks a free one)')
    .option('--mllp-port <n>', 'HL7 v2 MLLP port (default 2575; 0 picks a free one)')
    .option('--persons <n>', 'people in the synthetic region', '150')
    .addOption(configOpt())
    .action(async (o) => {
      await demo(await resolvePort(config(o)), Number(o.persons));
    });

  const org = program.command('org').description('organisations taking part');
  actorOptions(org.command('add'))
    .requiredOption('--ods <code>', 'ODS code')
    .requiredOption('--name <name>', 'organisation name')
    .option('--kind <kind>', 'gp, acute, pathology, community-mental-health, social-care, out-of-hours, …')
    .option('--contributes', 'sends data')
    .option('--views', 'its staff view records')
    .option(
      '--shares <categories>',
      'what it declares it shares, separated by ";" (e.g. "Problems; Medications; Test results")',
    )
    .option('--shares-from <date>', 'the date its shared data starts from (YYYY-MM-DD)')
    .addOption(configOpt())
    .action((o) => {
      const actor = requireActor({ by: o.by, org: o.org });
      if (o.sharesFrom && !o.shares)
        throw new SharedcareError('invalid-request', '--shares-from needs --shares: say what is shared');
      const categories = o.shares
        ? String(o.shares)
            .split(';')
            .map((c: string) => c.trim())
            .filter(Boolean)
        : undefined;
      return withBackend(
        async (b) =>
          print(
            await b.addOrganisation({
              ods: o.ods,
              name: o.name,
              kind: o.kind,
              contributes: !!o.contributes,
              views: !!o.views,
              ...(categories
                ? { dataSet: { categories, ...(o.sharesFrom ? { from: o.sharesFrom } : {}) } }
                : {}),
            }),
          ),
        { ...o, actor },
      );
    });
  org
    .command('list')
    .addOption(configOpt())
    .action((o) => withBackend(async (b) => print(await b.listOrganisations()), o));

  const source = program.command('source').description('source systems that send data');
  // `--org` names the source's organisation here, so the acting organisation is `--by-org`
  actorOptions(source.command('add'), '--by-org')
    .requiredOption('--id <id>', 'source id (lower-case, dashes)')
    .requiredOption('--org <ods>', 'organisation it belongs to')
    .addOption(
      new Option('--kind <kind>', 'what it sends').choices(['fhir', 'hl7v2', 'batch']).makeOptionMandatory(),
    )
    .option('--name <name>', 'a readable name')
    .addOption(configOpt())
    .action((o) => {
      const actor = requireActor({ by: o.by, org: o.byOrg }, '--by-org');
      return withBackend(
        async (b) => print(await b.addSource({ id: o.id, org: o.org, kind: o.kind, name: o.name })),
        { ...o, actor },
      );
    });
  source
    .command('list')
    .addOption(configOpt())
    .action((o) => withBackend(async (b) => print(await b.listSources()), o));

  registerObjectionCommands(program, { withBackend, print, configOpt });
  registerIdentityCommands(program, { withBackend, print, configOpt });

  program
    .command('generate')
    .description('write a synthetic region (organisations, sources, FHIR data with identity noise)')
    .requiredOption('--persons <n>', 'number of people')
    .requiredOption('--out <dir>', 'output folder')
    .option('--seed <n>', 'random seed', '1')
    .option(
      '--identity-noise',
      'instead: Patients only, one NDJSON file per source, with truth.csv (who is who)',
    )
    .action(async (o) => {
      const persons = Number(o.persons);
      if (!Number.isInteger(persons) || persons < 1)
        throw new SharedcareError('invalid-request', '--persons must be a whole number of at least 1');
      const started = performance.now();
      if (o.identityNoise) {
        const n = writeIdentityNoise({ persons, outDir: o.out, seed: Number(o.seed) });
        process.stderr.write(
          `Wrote ${n.records} labelled Patient records for ${persons} people to ${o.out}.\n`,
        );
        return;
      }
      const s = await writeRegion({ persons, outDir: o.out, seed: Number(o.seed) });
      process.stderr.write(
        `Wrote ${s.persons} people, ${s.resources} resources (${s.sensitive} sensitive) in ${s.files} files to ${o.out} in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`,
      );
      process.stderr.write(
        `Register the region with: sharedcare serve --config ${o.out}/region.json  (then sharedcare load --source ID ${o.out}/ID)\n`,
      );
    });

  program
    .command('load')
    .description(
      'load FHIR Bundles (.json), NDJSON (.ndjson) and HL7 v2 messages or batch files (.hl7, .er7) as a source',
    )
    .requiredOption('--source <id>', 'the source system the data comes from')
    .argument('<paths...>', 'files or folders')
    .option('--chunk <n>', 'NDJSON lines per request', '2000')
    .addOption(configOpt())
    .action((paths: string[], o) =>
      withBackend(async (b) => {
        let s;
        try {
          s = await loadFiles(b, o.source, paths, {
            chunk: Number(o.chunk),
            progress: process.stderr.isTTY,
            concurrency: b.parallelism,
          });
        } catch (err) {
          if (!(err instanceof LoadAborted)) throw err;
          print(formatLoadSummary(err.summary));
          throw err.cause;
        }
        print(formatLoadSummary(s));
        if (s.failedRequests > 0) process.exitCode = 1;
      }, o),
    );

  program
    .command('replay')
    .description(
      'process landed HL7 v2 messages again after a mapping or configuration fix, in arrival order (dead letters included)',
    )
    .option('--source <id>', 'only this source system')
    .option(
      '--since <time>',
      'only messages received at or after this time (ISO 8601, e.g. 2026-12-01T00:00:00Z)',
    )
    .option('--dead-letters', 'only the messages that were refused (AE or AR)')
    .addOption(configOpt())
    .action((o) =>
      withBackend(async (b) => {
        if (o.since && Number.isNaN(Date.parse(o.since)))
          throw new SharedcareError(
            'invalid-request',
            `--since ${o.since} is not a date and time: use ISO 8601, e.g. 2026-12-01T00:00:00Z`,
          );
        const r = await b.replayHl7({
          ...(o.source ? { source: o.source } : {}),
          ...(o.since ? { since: new Date(o.since).toISOString() } : {}),
          ...(o.deadLetters ? { deadLettersOnly: true } : {}),
        });
        print(
          `Replayed ${r.messages} message(s): ${Object.entries(r.counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}.`,
        );
        if ((r.counts.AE ?? 0) + (r.counts.AR ?? 0) > 0) process.exitCode = 1;
      }, o),
    );

  program
    .command('token')
    .description('print a bearer token from the development issuer (refused in production mode)')
    .option('--user <id>', 'user id')
    .option('--org <ods>', "the user's organisation")
    .option('--role <code>', 'national RBAC role code, e.g. R8000 (or sharedcare-admin, sharedcare-dpo)')
    .option('--patient <nhs>', 'bind the token to one patient in context')
    .option('--name <name>', "the user's display name")
    .option('--postcode <postcode>', "the user's home postcode (OpenID Connect address claim)")
    .option('--source <id>', 'a token for a source system instead')
    .option('--production', 'as the server would in production mode')
    .action(async (o) => {
      const secret = devSecret(config(o));
      if (o.source) {
        print(await mintSourceToken(secret, o.source));
        return;
      }
      if (!o.user || !o.org || !o.role)
        throw new SharedcareError('invalid-request', 'give --user, --org and --role (or --source ID)');
      print(
        await mintUserToken(secret, {
          user: o.user,
          org: o.org,
          role: o.role,
          ...(o.name ? { name: o.name } : {}),
          ...(o.postcode ? { postcode: o.postcode } : {}),
          ...(o.patient ? { patient: o.patient } : {}),
        }),
      );
    });

  program
    .command('launch-url')
    .description(
      'print a URL that opens the viewer for a person as a user, through the EHR launch a clinical system uses (development issuer; the server must be running; the URL works once, within 5 minutes)',
    )
    .requiredOption('--user <id>', 'user id')
    .requiredOption('--org <ods>', "the user's organisation")
    .requiredOption('--role <code>', 'national RBAC role code, e.g. R8000')
    .requiredOption('--nhs <number>', "the patient's NHS number")
    .option('--name <name>', "the user's display name")
    .option('--postcode <postcode>', "the user's home postcode (OpenID Connect address claim)")
    .option(
      '--server <url>',
      'where the server runs (default: the server running on this data folder, else SHAREDCARE_PUBLIC_URL or the port in --config/PORT)',
    )
    .addOption(configOpt())
    .action(async (o) => {
      const c = config(o);
      print(await launchUrl(c, devSecret(c), o));
    });

  registerAuditCommands(program, { withBackend, print, configOpt });
  registerRetentionCommand(program, withBackend);
  registerCodesCommands(program, withBackend);
  registerBackupCommands(program, { withBackend, print, configOpt, config });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else if (err instanceof SharedcareError) {
      process.stderr.write(`sharedcare: ${err.message}\n`);
      for (const p of err.problems)
        if (p.message !== err.message)
          process.stderr.write(`  - ${p.expression ? `${p.expression}: ` : ''}${p.message}\n`);
    } else process.stderr.write(`sharedcare: ${(err as Error).message}\n`);
    process.exitCode = process.exitCode || 1;
    // a worker of `serve --workers` that cannot start: its channel to the primary would keep it alive
    if (cluster.isWorker) cluster.worker?.disconnect();
  }
}
