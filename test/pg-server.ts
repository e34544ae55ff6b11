/**
 * One throwaway PostgreSQL server that archives its WAL, for the backup and recovery drill
 * (test/pg-backup.test.ts): the steps of docs/operations.md ("PostgreSQL: base backups and
 * point-in-time recovery") run with Debian's binaries as the postgres user, in a temporary folder,
 * on free ports. `destroy()` stops every server it started and removes the folder; a process exit
 * does the same if a test dies half way.
 */
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  appendConf,
  asPostgres,
  clustersUnavailable,
  freePort,
  postgresUser,
  ThrowawayServers,
  type PgNode,
} from './pg-cluster.ts';

const run = promisify(execFile);

/** The documented settings (step 1), with this drill's archive folder; or a plain server. */
const CONF = (port: number, dir: string, archive = true) => `
port = ${port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${dir}'
max_connections = 60
shared_buffers = 32MB
wal_level = replica
${archive ? `archive_mode = on\narchive_command = 'test ! -f ${dir}/wal-archive/%f && cp %p ${dir}/wal-archive/%f'\narchive_timeout = 60` : ''}
`;

export class PgServer extends ThrowawayServers {
  private readonly nodes: PgNode[] = [];

  private constructor(dir: string) {
    super(dir, () => this.nodes);
  }

  /**
   * A running server, by default with WAL archiving on, its archive in `<dir>/wal-archive`.
   * `settings` are postgresql.conf lines added after the drill's (the later line wins).
   */
  static async create(
    opts: { archive?: boolean; settings?: string[] } = {},
  ): Promise<{ cluster: PgServer; node: PgNode }> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-pitr-'));
    const owner = postgresUser()!;
    chownSync(dir, owner.uid, owner.gid);
    const cluster = new PgServer(dir);
    try {
      await shell(`mkdir -p '${dir}/wal-archive'`);
      const node: PgNode = { name: 'primary', port: await freePort(), dir: path.join(dir, 'primary') };
      await asPostgres('initdb', [
        '-D',
        node.dir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
      ]);
      await appendConf(
        node,
        `${CONF(node.port, dir, opts.archive ?? true)}\n${(opts.settings ?? []).join('\n')}\n`,
      );
      await cluster.start(node);
      return { cluster, node };
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
  }

  url(node: PgNode, database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${node.port}/${database}`;
  }

  /** Step 2: a compressed tar-format base backup, taken while the server serves. */
  async baseBackup(node: PgNode, name: string): Promise<string> {
    const dest = path.join(this.dir, name);
    await asPostgres('pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', String(node.port), '-U', 'postgres'],
      ...['-D', dest, '-Ft', '-z', '-Xstream', '--checkpoint=fast', '--no-sync'],
    ]);
    return dest;
  }

  /**
   * Waits until every WAL segment written so far is in the archive: switches to a new segment and
   * waits for the archiver to report the one it closed (recovery reads only what was archived).
   */
  async archiveNow(node: PgNode): Promise<void> {
    const c = new pg.Client({ connectionString: this.url(node) });
    await c.connect();
    try {
      const { rows } = await c.query<{ f: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS f');
      const want = rows[0]!.f;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const a = await c.query<{ w: string | null }>('SELECT last_archived_wal AS w FROM pg_stat_archiver');
        if ((a.rows[0]?.w ?? '') >= want) return;
        if (Date.now() > deadline) throw new Error(`WAL segment ${want} was not archived`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await c.end();
    }
  }

  /**
   * Step 4: a new data folder from the base backup, replaying the archive to a named restore point
   * (or to its end), promoted once there. Resolves when the recovered server accepts writes.
   */
  async recover(backup: string, target: { name?: string }): Promise<PgNode> {
    const node: PgNode = {
      name: `restored-${this.nodes.length}`,
      port: await freePort(),
      dir: path.join(this.dir, `restored-${this.nodes.length}`),
    };
    const settings = [
      `restore_command = 'cp ${this.dir}/wal-archive/%f %p'`,
      ...(target.name ? [`recovery_target_name = '${target.name}'`] : []),
      `recovery_target_action = 'promote'`,
    ].join('\n');
    await shell(
      [
        `mkdir -m 700 '${node.dir}' && cd '${node.dir}'`,
        `tar xzf '${backup}/base.tar.gz'`,
        `mkdir -p pg_wal && tar xzf '${backup}/pg_wal.tar.gz' -C pg_wal`,
        `touch recovery.signal`,
      ].join(' && '),
    );
    // the backup carries the primary's port and settings; the recovered copy gets its own
    await appendConf(node, `${CONF(node.port, this.dir)}\n${settings}\n`);
    await this.start(node);
    const c = new pg.Client({ connectionString: this.url(node) });
    await c.connect();
    try {
      const deadline = Date.now() + 120_000;
      while ((await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r) {
        if (Date.now() > deadline) throw new Error(`${node.name} did not finish recovery`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await c.end();
    }
    return node;
  }

  override async start(node: PgNode): Promise<void> {
    this.nodes.push(node);
    await super.start(node);
  }
}

/**
 * A PostgreSQL server of the test's own for a test that runs Sharedcare as a region would (the
 * soak, several processes): its admin URL, and how to stop it. Where this machine cannot make one
 * (no Debian binaries, not root), the machine's server at PG_URL, and the reason is printed.
 */
export async function ownPostgres(
  label: string,
  fallbackUrl: string,
  settings: string[] = [],
): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const why = clustersUnavailable();
  if (why) {
    console.warn(`[${label}] on the machine's PostgreSQL, not a server of its own: ${why}`);
    return { adminUrl: fallbackUrl, stop: async () => undefined };
  }
  const { cluster, node } = await PgServer.create({ archive: false, settings });
  return { adminUrl: cluster.url(node), stop: () => cluster.destroy() };
}

/** A shell command as the postgres user (the files it makes are the server's). */
async function shell(command: string): Promise<void> {
  await run('runuser', ['-u', 'postgres', '--', 'sh', '-c', command], { timeout: 120_000 });
}
