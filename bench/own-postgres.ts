/**
 * `--own-postgres 'name=value,…'` for the benchmarks: a throwaway PostgreSQL server of the bench's
 * own (test/pg-server.ts: Debian's binaries, a temporary folder, a free port), with these settings
 * on top of a fresh cluster's (autovacuum on, as a region runs it). Measures the database a region
 * would configure rather than whatever this machine's server is set to (here: autovacuum off and
 * 128 MB of shared buffers). `stop()` removes it.
 */
import { clustersUnavailable } from '../test/pg-cluster.ts';
import { PgServer } from '../test/pg-server.ts';
import { note } from './stats.ts';

/** `a=b,c=d` as postgresql.conf lines; refuses anything that is not name=value. */
export function settingLines(settings: string): string[] {
  return settings
    .split(',')
    .filter((x) => x.trim())
    .map((x) => {
      const [k, v, ...rest] = x.split('=');
      if (!k?.trim() || !v?.trim() || rest.length > 0 || !/^[a-z_.]+$/.test(k.trim()))
        throw new Error(`--own-postgres: "${x}" is not name=value`);
      return `${k.trim()} = '${v.trim().replace(/'/g, "''")}'`;
    });
}

export async function ownPostgresServer(
  settings: string,
): Promise<{ adminUrl: string; port: number; stop(): Promise<void> }> {
  const why = clustersUnavailable();
  if (why) throw new Error(`--own-postgres: this machine cannot start a server of the bench's own: ${why}`);
  const lines = settingLines(settings);
  const { cluster, node } = await PgServer.create({ archive: false, settings: lines });
  note(`own PostgreSQL on port ${node.port}: ${lines.join(', ') || 'default settings'}`);
  // Ctrl-C or a kill ends a long bench half way: the server goes with it (an 'exit' handler does
  // not run on a signal, and the server would be left running in its temporary folder)
  const onSignal = (signal: NodeJS.Signals) => {
    void cluster.destroy().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    adminUrl: cluster.url(node),
    port: node.port,
    stop: async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await cluster.destroy();
    },
  };
}
