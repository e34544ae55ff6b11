/**
 * `sharedcare retention run [--dry-run] [--as-of DATE] [--json] [--config FILE]`: removes what is
 * past its retention period (see src/retention), or with --dry-run only reports what would go.
 * Options are checked before anything is opened, so a bad date changes nothing. While a server
 * holds the embedded data folder the run goes through its admin API, with the server's periods.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { formatRetentionReport, parseAsOf } from '../retention/index.ts';
import { actorOptions, requireActor, type CliActor } from './actor.ts';
import type { Backend } from './backend.ts';

type WithBackend = <T>(
  fn: (b: Backend) => Promise<T>,
  opts?: { config?: string; actor?: CliActor },
) => Promise<T>;

export function registerRetentionCommand(program: Command, withBackend: WithBackend): void {
  const retention = program
    .command('retention')
    .description('remove records past their retention period (periods from the config file)');
  actorOptions(retention.command('run'))
    .description(
      'remove what is past its period: adults 8 years after the last contact, children until their 25th birthday (26th if 17 at the last contact), maternity 25 years, mental health 20 years',
    )
    .option('--dry-run', 'report what would be removed, by rule, and change nothing')
    .option('--as-of <date>', 'as if today were this date (YYYY-MM-DD); a date in the future needs --dry-run')
    .option('--json', 'print the report as JSON')
    .addOption(new Option('--config <file>', 'configuration file (JSON or YAML)'))
    .action(
      (o: {
        dryRun?: boolean;
        asOf?: string;
        json?: boolean;
        config?: string;
        by?: string;
        org?: string;
      }) => {
        const actor = requireActor(o); // a dry run is audited too, under the same name
        const dryRun = o.dryRun === true;
        parseAsOf(o.asOf, dryRun); // refuses a bad date before anything is opened
        return withBackend(
          async (b) => {
            const report = await b.runRetention({ dryRun, ...(o.asOf ? { asOf: o.asOf } : {}) });
            process.stdout.write(
              `${o.json ? JSON.stringify(report, null, 2) : formatRetentionReport(report)}\n`,
            );
          },
          { ...o, actor },
        );
      },
    );
}
