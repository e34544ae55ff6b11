/**
 * `sharedcare codes import FILE… | codes list | codes diff FILE` and `sharedcare sensitivity review
 * [list|confirm ID|release ID]`. Lists are read and every code validated here, before anything is
 * opened: a malformed code (a spreadsheet's `1.03E+15`) is reported with its file and line and
 * skipped, or with --strict refuses the whole import. An import relabels the store (through the
 * server when it owns the data folder, so that the viewer shows the change without a restart).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { SharedcareError } from '../errors/index.ts';
import { parseCodeList, type ListDefaults } from '../policy/index.ts';
import { actorOptions, requireActor, type CliActor } from './actor.ts';
import type { Backend } from './backend.ts';
import type { ImportedList } from './sensitivity-backend.ts';

type WithBackend = <T>(
  fn: (b: Backend) => Promise<T>,
  opts?: { config?: string; actor?: CliActor },
) => Promise<T>;
interface ImportOptions {
  name?: string;
  category?: string;
  system?: string;
  listVersion?: string;
  date?: string;
  strict?: boolean;
  config?: string;
  by?: string;
  org?: string;
}

/** Reads one file as a list to import; problems are "file: row N: …" lines. */
export function readList(file: string, o: ImportOptions, problems: string[]): ImportedList {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SharedcareError('invalid-request', `cannot read ${file}: ${(err as Error).message}`);
  }
  const defaults: ListDefaults = {
    ...(o.category ? { category: o.category } : {}),
    ...(o.system ? { system: o.system } : {}),
  };
  const parsed = parseCodeList(file, text, problems, defaults);
  if (parsed.edges.length > 0)
    throw new SharedcareError(
      'invalid-request',
      `${file} is a SNOMED CT hierarchy, not a code list: add it to sensitiveCodeLists in the configuration`,
    );
  return {
    name: o.name ?? parsed.meta.name ?? path.basename(file).replace(/\.[^.]+$/, ''),
    version: o.listVersion ?? parsed.meta.version,
    date: o.date ?? parsed.meta.date,
    sourceFile: path.resolve(file),
    codes: parsed.codes,
  };
}

const key = (c: ImportedList['codes'][number]) => `${c.category} ${c.system} ${c.code} ${c.match}`;

export function registerCodesCommands(program: Command, withBackend: WithBackend): void {
  const configOpt = () => new Option('--config <file>', 'configuration file (JSON or YAML)');
  const codes = program.command('codes').description('never-shared code lists');
  const importCmd = codes
    .command('import')
    .description(
      'load published code lists (FHIR ValueSet JSON, RF2 refset, CSV, code list .txt) and relabel the store',
    )
    .argument('<files...>', 'list files; each becomes one list, named by --name, the ValueSet or the file')
    .option('--name <name>', 'the list’s name (one file only)')
    .option('--category <category>', 'category for files that do not name one (e.g. hiv_aids)')
    .option(
      '--system <system>',
      'code system for files that do not name one (e.g. "SNOMED CT", ctv3, icd-10)',
    )
    .option('--list-version <version>', 'the list’s version, where the file does not say')
    .option('--date <date>', 'the list’s publication date, where the file does not say')
    .option('--strict', 'refuse the whole import if any code is malformed');
  actorOptions(importCmd)
    .addOption(configOpt())
    .action((files: string[], o: ImportOptions) => {
      // a list changes what every clinician is shown: the trail names who put it in force
      const actor = requireActor(o);
      if (o.name && files.length > 1)
        throw new SharedcareError('invalid-request', '--name names one file only');
      const problems: string[] = [];
      const lists = files.map((f) => readList(f, o, problems));
      for (const p of problems) process.stderr.write(`sharedcare: ${p} (skipped)\n`);
      if (problems.length > 0 && o.strict)
        throw new SharedcareError(
          'invalid-request',
          `${problems.length} malformed codes; nothing was imported (--strict)`,
        );
      const empty = lists.find((l) => l.codes.length === 0);
      if (empty)
        throw new SharedcareError(
          'invalid-request',
          `${empty.sourceFile} has no valid codes; nothing was imported`,
        );
      return withBackend(
        async (b) => {
          for (const l of lists) {
            const r = (await b.sensitivity.importCodeList(l)) as { relabelled: number };
            process.stdout.write(
              `imported ${l.name}${l.version ? ` version ${l.version}` : ''}${l.date ? ` (${l.date})` : ''}: ${l.codes.length} codes; ${r.relabelled} items relabelled\n`,
            );
          }
        },
        { ...o, actor },
      );
    });
  codes
    .command('list')
    .description('the lists in force: the configured files and the imported lists')
    .option('--json', 'print as JSON')
    .addOption(configOpt())
    .action((o: { json?: boolean; config?: string }) =>
      withBackend(async (b) => {
        const imported = await b.sensitivity.listCodeLists();
        if (o.json) return void process.stdout.write(`${JSON.stringify(imported, null, 2)}\n`);
        const lines = imported.map(
          (l) => `${l.name}\t${l.version ?? '-'}\t${l.date ?? '-'}\t${l.codeCount} codes`,
        );
        process.stdout.write(
          `imported lists (besides the configured files, see sharedcare serve's log):\n${lines.join('\n') || '(none)'}\n`,
        );
      }, o),
    );
  codes
    .command('diff')
    .description('what importing this file would change, against the imported list of the same name')
    .argument('<file>')
    .option('--name <name>', 'compare with this list')
    .option('--category <category>')
    .option('--system <system>')
    .addOption(configOpt())
    .action((file: string, o: ImportOptions) => {
      const problems: string[] = [];
      const next = readList(file, o, problems);
      for (const p of problems) process.stderr.write(`sharedcare: ${p} (would be skipped)\n`);
      return withBackend(async (b) => {
        const held = (await b.sensitivity.listCodeLists()).some((l) => l.name === next.name)
          ? await b.sensitivity.codesOfList(next.name)
          : [];
        const before = new Set(held.map(key));
        const after = new Set(next.codes.map(key));
        const added = [...after].filter((k) => !before.has(k)).sort();
        const removed = [...before].filter((k) => !after.has(k)).sort();
        const out = [...added.map((k) => `+ ${k}`), ...removed.map((k) => `- ${k}`)];
        out.push(
          `${next.name}: ${added.length} added, ${removed.length} removed, ${after.size - added.length} unchanged`,
        );
        process.stdout.write(`${out.join('\n')}\n`);
      }, o);
    });

  const sensitivity = program.command('sensitivity').description('what the free-text screen withheld');
  const review = sensitivity
    .command('review')
    .description('the information-governance review queue: list, confirm or release');
  review
    .command('list', { isDefault: true })
    .description('what is queued, with the matched words and rule')
    .option('--status <status>', 'pending (default), confirmed, released or all', 'pending')
    .addOption(configOpt())
    .action((o: { status: string; config?: string }) =>
      withBackend(async (b) => {
        process.stdout.write(`${JSON.stringify(await b.sensitivity.listReviews(o.status), null, 2)}\n`);
      }, o),
    );
  for (const decision of ['confirm', 'release'] as const)
    actorOptions(
      review
        .command(decision)
        .description(decision === 'confirm' ? 'keep the item withheld (as sensitive)' : 'show the item')
        .argument('<item-id>'),
    )
      .addOption(configOpt())
      .action((itemId: string, o: { by?: string; org?: string; config?: string }) => {
        const actor = requireActor(o);
        return withBackend(
          async (b) => {
            process.stdout.write(
              `${JSON.stringify(await b.sensitivity.decide(itemId, decision, { by: actor.by, org: actor.org }))}\n`,
            );
          },
          { ...o, actor },
        );
      });
}
