/**
 * `sharedcare backup DIR` and `sharedcare restore DIR` for the embedded database. A backup is
 * taken while the server runs, through its admin API (or directly when no server holds the data
 * folder): DIR gets the data folder's copy (pgdata.tar.gz) and a manifest (manifest.json) with
 * its checksum. A restore checks the checksum and unpacks the copy into SHAREDCARE_DATA_DIR, which
 * must be empty. Both name who does them (--by, --org) and are audited. PostgreSQL has its own
 * tools: docs/operations.md, "Backups and restore".
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { ADMIN_ROLE } from '../access/index.ts';
import { checkBackup, restoreBackup } from '../admin/index.ts';
import type { Config } from '../config/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { actorOptions, requireActor, type CliActor } from './actor.ts';
import type { Backend } from './backend.ts';

const TARBALL = 'pgdata.tar.gz';
const MANIFEST = 'manifest.json';

interface Helpers {
  withBackend<T>(fn: (b: Backend) => Promise<T>, opts?: { config?: string; actor?: CliActor }): Promise<T>;
  print(v: unknown): void;
  configOpt(): Option;
  config(o: { config?: string }): Config;
}

const isEmpty = (dir: string) => !existsSync(dir) || readdirSync(dir).length === 0;

function refusePostgres(c: Config): void {
  if (c.databaseUrl)
    throw new SharedcareError(
      'invalid-request',
      'backup and restore are for the embedded database; DATABASE_URL is set, so back up PostgreSQL with pg_basebackup and WAL archiving (docs/operations.md, "Backups and restore")',
    );
}

export function registerBackupCommands(program: Command, h: Helpers): void {
  actorOptions(program.command('backup'))
    .description(
      'copy the embedded database into DIR (new or empty), consistently, while the server runs (through its admin API)',
    )
    .argument('<dir>', 'where the copy goes: a new or empty folder')
    .addOption(h.configOpt())
    .action((dir: string, o: { config?: string; by?: string; org?: string }) => {
      const actor = requireActor(o);
      refusePostgres(h.config(o));
      if (!isEmpty(dir))
        throw new SharedcareError('invalid-request', `${dir} is not empty: give a new or empty folder`);
      return h.withBackend(
        async (b) => {
          const { manifest, tarball } = await b.backup();
          mkdirSync(dir, { recursive: true });
          writeFileSync(path.join(dir, TARBALL), tarball);
          writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
          h.print(
            `Backed up the embedded database to ${dir} (${(manifest.bytes / 1024 / 1024).toFixed(1)} MiB, ${manifest.auditEvents} audit events, taken ${manifest.takenAt}).`,
          );
        },
        { ...o, actor },
      );
    });

  actorOptions(program.command('restore'))
    .description(
      'restore a backup made by `sharedcare backup` into SHAREDCARE_DATA_DIR, which must be empty (no server may run on it)',
    )
    .argument('<dir>', 'the backup folder (manifest.json and pgdata.tar.gz)')
    .addOption(h.configOpt())
    .action(async (dir: string, o: { config?: string; by?: string; org?: string }) => {
      const who = requireActor(o);
      const c = h.config(o);
      refusePostgres(c);
      if (!existsSync(path.join(dir, MANIFEST)) || !existsSync(path.join(dir, TARBALL)))
        throw new SharedcareError(
          'invalid-request',
          `${dir} is not a Sharedcare backup: it needs ${MANIFEST} and ${TARBALL}`,
        );
      if (!isEmpty(c.dataDir))
        throw new SharedcareError(
          'invalid-request',
          `the data folder ${c.dataDir} is not empty: restore into an empty place (set SHAREDCARE_DATA_DIR to a new folder, or move the old one away first)`,
        );
      let manifest: unknown;
      try {
        manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8'));
      } catch {
        throw new SharedcareError(
          'invalid-request',
          `${path.join(dir, MANIFEST)} is not JSON: the backup is damaged`,
        );
      }
      const tarball = new Uint8Array(readFileSync(path.join(dir, TARBALL)));
      const checked = checkBackup(manifest, tarball);
      const r = await restoreBackup(
        c.dataDir,
        { manifest: checked, tarball },
        { userId: who.by, org: who.org, role: ADMIN_ROLE },
      );
      // the copy holds the announcement of the server that ran when it was taken: not this one
      rmSync(path.join(c.dataDir, 'sharedcare.server'), { force: true });
      h.print(
        `Restored the copy taken at ${checked.takenAt} into ${c.dataDir} (${r.auditEvents} audit events, the restore included). Check it with: sharedcare audit verify`,
      );
    });
}
