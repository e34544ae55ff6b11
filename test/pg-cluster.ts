/**
 * Throwaway PostgreSQL clusters for the high-availability tests: a primary and a streaming standby
 * made with Debian's PostgreSQL 15 binaries, on free ports, in a temporary folder owned by the
 * `postgres` user (initdb refuses root). They never touch the machine's own server, and `destroy()`
 * stops them and removes the folder; a process exit does the same if a test dies half way.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PG_BIN = process.env.SHAREDCARE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why these clusters cannot be made here, or undefined when they can. */
export function clustersUnavailable(): string | undefined {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) return `no PostgreSQL binaries in ${PG_BIN}`;
  if (process.getuid?.() !== 0) return 'the clusters are made as the postgres user, which needs root here';
  if (!postgresUser()) return 'no postgres user on this machine';
  return undefined;
}

/** The postgres user's uid and gid, from /etc/passwd. */
export function postgresUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) return undefined;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Runs a PostgreSQL program as the postgres user. */
export async function asPostgres(program: string, args: string[]): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, program), ...args], {
    timeout: 120_000,
  });
  return stdout;
}

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    if (port !== 5432) return port;
  }
}

/** One node: a data folder and a port. Which node is primary changes with each failover. */
export interface PgNode {
  name: string;
  port: number;
  dir: string;
}

const CONF = (port: number, socketDir: string, sync: boolean) => `
port = ${port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${socketDir}'
max_connections = 60
shared_buffers = 16MB
wal_level = replica
max_wal_senders = 6
wal_keep_size = 64MB
hot_standby = on
wal_log_hints = on
# the tests kill processes, not machines: the operating system keeps what was written
fsync = off
full_page_writes = on
${sync ? `synchronous_standby_names = 'FIRST 1 (node_a, node_b)'\nsynchronous_commit = on` : ''}
`;

/**
 * Servers made in one temporary folder: started with their log kept for errors, stopped and the
 * folder removed together by `destroy()`, or at process exit if a test dies half way.
 */
export class ThrowawayServers {
  private removed = false;
  private readonly onExit = () => this.removeNow();

  protected constructor(
    readonly dir: string,
    /** the servers that may be running now */
    private readonly servers: () => readonly PgNode[],
  ) {
    process.once('exit', this.onExit);
  }

  async start(node: PgNode): Promise<void> {
    const log = path.join(this.dir, `${node.name}.log`);
    await asPostgres('pg_ctl', ['-D', node.dir, '-l', log, '-w', 'start']).catch((err: Error) => {
      // the server's own words, since the folder is removed afterwards
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
      throw new Error(`${err.message}\n${node.name}.log:\n${tail}`);
    });
  }

  /** Stops every server and removes the folder (safe to call twice). */
  async destroy(): Promise<void> {
    for (const node of this.servers())
      if (existsSync(path.join(node.dir, 'postmaster.pid')))
        await asPostgres('pg_ctl', ['-D', node.dir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    this.removeNow();
    process.off('exit', this.onExit);
  }

  /** Synchronous last resort (process exit): kill what runs, remove the folder. */
  private removeNow(): void {
    if (this.removed) return;
    this.removed = true;
    for (const node of this.servers()) {
      try {
        const pid = Number(readFileSync(path.join(node.dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        for (const child of childrenOf(pid)) safeKill(child);
        safeKill(pid);
      } catch {
        /* not running */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class PgPair extends ThrowawayServers {
  readonly nodes: [PgNode, PgNode];
  /** index of the node that is primary now */
  primaryIndex = 0;

  private constructor(
    dir: string,
    ports: [number, number],
    private readonly sync: boolean,
  ) {
    super(dir, () => this.nodes);
    this.nodes = [
      { name: 'node_a', port: ports[0], dir: path.join(dir, 'node_a') },
      { name: 'node_b', port: ports[1], dir: path.join(dir, 'node_b') },
    ];
  }

  /** A primary (node_a) and its streaming standby (node_b), both running. */
  static async create(opts: { sync: boolean }): Promise<PgPair> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-ha-'));
    const owner = postgresUser()!;
    chownSync(dir, owner.uid, owner.gid);
    const pair = new PgPair(dir, [await freePort(), await freePort()], opts.sync);
    try {
      const a = pair.nodes[0];
      await asPostgres('initdb', ['-D', a.dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
      await appendConf(a, CONF(a.port, dir, opts.sync));
      await pair.start(a);
      await pair.makeStandby(1);
      return pair;
    } catch (err) {
      await pair.destroy();
      throw err;
    }
  }

  get primary(): PgNode {
    return this.nodes[this.primaryIndex]!;
  }
  get standby(): PgNode {
    return this.nodes[1 - this.primaryIndex]!;
  }

  /** libpq's multi-host URL over both nodes (the order does not say which is primary). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.nodes[0].port},127.0.0.1:${this.nodes[1].port}/${database}?target_session_attrs=read-write`;
  }

  /** One node's own URL. */
  nodeUrl(node: PgNode, database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${node.port}/${database}`;
  }

  /** kill -9 of the postmaster and every process it started: the server is gone at once. */
  killPrimary(): void {
    const node = this.primary;
    const pid = Number(readFileSync(path.join(node.dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    for (const child of childrenOf(pid)) safeKill(child);
    safeKill(pid);
    // A killed postmaster can linger as a zombie where nothing reaps orphans; PostgreSQL's check of
    // its socket lock (kill(pid, 0)) then takes it for a live server and the rebuilt node on this
    // port refuses to start. Wait for it to die, then clear the lock as an operator would.
    const deadline = Date.now() + 5000;
    while (isRunning(pid) && Date.now() < deadline)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    for (const f of [`.s.PGSQL.${node.port}`, `.s.PGSQL.${node.port}.lock`])
      rmSync(path.join(this.dir, f), { force: true });
  }

  /** Promotes the standby; it is the primary from now on. */
  async promote(): Promise<void> {
    await asPostgres('pg_ctl', ['-D', this.standby.dir, '-w', 'promote']);
    this.primaryIndex = 1 - this.primaryIndex;
  }

  /**
   * Makes node `index` a fresh standby of the current primary with pg_basebackup -R (the old,
   * killed primary's folder is thrown away: its WAL may hold commits the new primary never saw).
   */
  async makeStandby(index: number): Promise<void> {
    const node = this.nodes[index]!;
    rmSync(node.dir, { recursive: true, force: true });
    await asPostgres('pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', String(this.primary.port), '-U', 'postgres'],
      ...['-D', node.dir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
    ]);
    await appendConf(
      node,
      `${CONF(node.port, this.dir, this.sync)}\nprimary_conninfo = 'host=127.0.0.1 port=${this.primary.port} user=postgres application_name=${node.name}'\n`,
    );
    await this.start(node);
  }

  /** Waits until the primary reports its standby streaming (and synchronous, if so configured). */
  async waitForStandby(query: (url: string, sql: string) => Promise<string[]>): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const states = await query(
        this.nodeUrl(this.primary),
        `SELECT sync_state FROM pg_stat_replication WHERE application_name = '${this.standby.name}' AND state = 'streaming'`,
      ).catch(() => []);
      if (states.some((s) => (this.sync ? s === 'sync' : true))) return;
      if (Date.now() > deadline) throw new Error('the standby did not start streaming');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function appendConf(node: PgNode, text: string): Promise<void> {
  // written by the postgres user, so the file keeps its owner
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      'runuser',
      ['-u', 'postgres', '--', 'sh', '-c', `cat >> '${node.dir}/postgresql.auto.conf'`],
      (err) => (err ? reject(err) : resolve()),
    );
    child.stdin!.end(text);
  });
}

/** The processes whose parent is `pid` (from /proc), by id. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Whether the process exists and is not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function safeKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
