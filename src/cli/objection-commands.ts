/**
 * `sharedcare objection add|withdraw|list|override|end-override` and `sharedcare opt-out set|show`.
 */
import type { Command, Option } from 'commander';
import { SharedcareError } from '../errors/index.ts';
import { actorOptions, requireActor, type CliActor } from './actor.ts';
import type { Backend } from './backend.ts';

interface Helpers {
  withBackend<T>(fn: (b: Backend) => Promise<T>, opts?: { config?: string; actor?: CliActor }): Promise<T>;
  print(v: unknown): void;
  configOpt(): Option;
}

const requestOptions = (c: Command, what: string): Command =>
  c
    .option('--requested-on <date>', `when the person asked ${what} (YYYY-MM-DD)`)
    .option('--request-source <how>', 'how they asked (e.g. "letter", "telephone to the practice")');

export function registerObjectionCommands(
  program: Command,
  { withBackend, print, configOpt }: Helpers,
): void {
  const objection = program.command('objection').description("a person's objections to sharing");
  requestOptions(
    actorOptions(objection.command('add'))
      .description('record an objection (the whole record unless one of --organisation, --category, --item)')
      .requiredOption('--nhs <number>', 'NHS number')
      .option('--organisation <ods>', "object to sharing one organisation's data")
      .option('--category <section>', 'object to sharing one category (e.g. problems, medications)')
      .option('--item <ref>', 'object to sharing one item (Type/id)')
      .option('--note <text>', 'anything else staff should know'),
    'to object',
  )
    .addOption(configOpt())
    .action((o) => {
      const actor = requireActor(o);
      const scopes = [o.organisation && 'organisation', o.category && 'category', o.item && 'item'].filter(
        Boolean,
      ) as string[];
      if (scopes.length > 1)
        throw new SharedcareError(
          'invalid-request',
          'give at most one of --organisation, --category, --item',
        );
      const target = o.organisation ?? o.category ?? o.item;
      return withBackend(
        async (b) =>
          print(
            await b.objections.add({
              nhs: o.nhs,
              scope: scopes[0] ?? 'record',
              ...(target ? { target } : {}),
              ...(o.note ? { note: o.note } : {}),
              ...(o.requestedOn ? { requestedOn: o.requestedOn } : {}),
              ...(o.requestSource ? { requestSource: o.requestSource } : {}),
            }),
          ),
        { ...o, actor },
      );
    });
  requestOptions(
    actorOptions(objection.command('withdraw'))
      .description('withdraw an objection at the person’s request (it stays in the history)')
      .requiredOption('--id <id>', 'the objection id (from objection list)'),
    'to withdraw it',
  )
    .addOption(configOpt())
    .action((o) => {
      const actor = requireActor(o);
      return withBackend(
        async (b) =>
          print(
            await b.objections.withdraw(o.id, {
              ...(o.requestedOn ? { requestedOn: o.requestedOn } : {}),
              ...(o.requestSource ? { requestSource: o.requestSource } : {}),
            }),
          ),
        { ...o, actor },
      );
    });
  objection
    .command('list')
    .description("a person's objections, their overrides, and each as a FHIR Consent")
    .requiredOption('--nhs <number>', 'NHS number')
    .option('--all', 'include withdrawn objections (the full history)')
    .addOption(configOpt())
    .action((o) => withBackend(async (b) => print(await b.objections.list(o.nhs, !!o.all)), o));
  actorOptions(objection.command('override'))
    .description(
      'do not uphold an objection, for safeguarding or the public interest only, until a date; prints the notice to send to the person',
    )
    .requiredOption('--id <id>', 'the objection id (from objection list)')
    .requiredOption('--ground <ground>', 'safeguarding or public-interest')
    .requiredOption('--reason <text>', 'why (this goes into the notice to the person)')
    .requiredOption('--until <date>', 'the last day the override lasts (YYYY-MM-DD)')
    .option('--for-org <ods>', 'lift the objection only for this organisation')
    .addOption(configOpt())
    .action((o) => {
      const actor = requireActor(o);
      return withBackend(
        async (b) =>
          print(
            await b.objections.override(o.id, {
              ground: o.ground,
              reason: o.reason,
              endsOn: o.until,
              ...(o.forOrg ? { forOrg: o.forOrg } : {}),
            }),
          ),
        { ...o, actor },
      );
    });
  actorOptions(objection.command('end-override'))
    .description('end an override early: the objection applies again at once')
    .requiredOption('--id <id>', 'the override id')
    .addOption(configOpt())
    .action((o) => {
      const actor = requireActor(o);
      return withBackend(async (b) => print(await b.objections.endOverride(o.id)), { ...o, actor });
    });

  const optOut = program
    .command('opt-out')
    .description('the national data opt-out (secondary use only: it never changes what direct care sees)');
  actorOptions(optOut.command('set'))
    .requiredOption('--nhs <number>', 'NHS number')
    .requiredOption('--status <status>', 'opted-out or not-opted-out')
    .requiredOption('--source <where>', 'where the status came from (e.g. "national service, 2026-11-01")')
    .addOption(configOpt())
    .action((o) => {
      const actor = requireActor(o);
      if (o.status !== 'opted-out' && o.status !== 'not-opted-out')
        throw new SharedcareError('invalid-request', '--status must be opted-out or not-opted-out');
      return withBackend(
        async (b) =>
          print(
            await b.objections.setOptOut({
              nhs: o.nhs,
              optedOut: o.status === 'opted-out',
              source: o.source,
            }),
          ),
        { ...o, actor },
      );
    });
  optOut
    .command('show')
    .requiredOption('--nhs <number>', 'NHS number')
    .addOption(configOpt())
    .action((o) => withBackend(async (b) => print(await b.objections.getOptOut(o.nhs)), o));
}
