/**
 * The benchmarks' `--own-postgres 'name=value,…'`: the settings it takes, what it refuses, and a
 * server that runs with them (started and removed here, never the machine's own).
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ownPostgresServer, settingLines } from '../bench/own-postgres.ts';
import { clustersUnavailable } from './pg-cluster.ts';

describe('--own-postgres settings', () => {
  it('become postgresql.conf lines, quoted', () =>
    expect(settingLines('shared_buffers=1GB, autovacuum=on,')).toEqual([
      "shared_buffers = '1GB'",
      "autovacuum = 'on'",
    ]));

  it.each(['shared_buffers', 'a=b=c', '=1GB', "x'y=1"])('refuse "%s", naming it', (bad) =>
    expect(() => settingLines(bad)).toThrow(`"${bad}" is not name=value`),
  );

  const why = clustersUnavailable();
  if (why) console.warn(`[own-postgres test] the two server tests are skipped: ${why}`);
  it.skipIf(!!why)(
    'start a server that runs with them, and removes it',
    async () => {
      const own = await ownPostgresServer('shared_buffers=48MB,autovacuum_naptime=7s');
      try {
        const c = new pg.Client({ connectionString: own.adminUrl });
        await c.connect();
        const { rows } = await c.query<{ b: string; n: string; a: string }>(
          `SELECT current_setting('shared_buffers') AS b, current_setting('autovacuum_naptime') AS n,
                current_setting('autovacuum') AS a`,
        );
        await c.end();
        expect(rows[0]).toEqual({ b: '48MB', n: '7s', a: 'on' });
      } finally {
        await own.stop();
      }
      const gone = new pg.Client({ connectionString: own.adminUrl, connectionTimeoutMillis: 2000 });
      await expect(gone.connect()).rejects.toThrow();
    },
    120_000,
  );

  it.skipIf(!!why)(
    'stop their server when the bench is interrupted (Ctrl-C)',
    async () => {
      const script =
        "const m = await import('./bench/own-postgres.ts'); const s = await m.ownPostgresServer('');" +
        " console.log('url ' + s.adminUrl); setInterval(() => {}, 1000);";
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: process.cwd(),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^url (\S+)$/m.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', () => reject(new Error(`exited before its server was up: ${out}`)));
      });
      const up = new pg.Client({ connectionString: url });
      await up.connect();
      await up.end();
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      const gone = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      await expect(gone.connect()).rejects.toThrow();
    },
    120_000,
  );
});
