/**
 * Where the running server listens, for the CLI commands that talk to it (`launch-url`, and every
 * command while `sharedcare serve` holds the embedded folder). The server writes
 * `<data folder>/sharedcare.server` ({pid, url}) once it listens and removes it when it stops, so
 * `npm start -- --port 18080` and the follow-up commands it prints agree without anyone passing the
 * port twice. `--server URL` (or SHAREDCARE_PUBLIC_URL) says where otherwise.
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Config } from '../config/index.ts';
import { isRunning } from '../db/index.ts';

const fileIn = (dataDir: string) => path.join(dataDir, 'sharedcare.server');

export function announceServer(dataDir: string, url: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = fileIn(dataDir);
  writeFileSync(file, `${JSON.stringify({ pid: process.pid, url })}\n`);
  const remove = () => {
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as { pid?: number }).pid === process.pid) unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
  process.once('exit', remove);
  return remove;
}

/** The URL of the server to talk to: --server, else the running server's announcement, else the configured URL. */
export function serverUrl(config: Config, explicit?: string): string {
  if (explicit) return explicit.replace(/\/$/, '');
  try {
    const { pid, url } = JSON.parse(readFileSync(fileIn(config.dataDir), 'utf8')) as {
      pid: number;
      url: string;
    };
    if (typeof url === 'string' && pid && isRunning(pid)) return url;
  } catch {
    /* no announcement: not running here, or an older server */
  }
  return config.publicUrl;
}

/** `--port 0`: picks a free port before the server is built, so its public URL is the real one. */
export async function resolvePort(config: Config): Promise<Config> {
  if (config.port !== 0) return config;
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, config.host, () => {
      const a = srv.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(p));
    });
  });
  const derived = /:0$/.test(config.publicUrl);
  return {
    ...config,
    port,
    publicUrl: derived ? config.publicUrl.replace(/:0$/, `:${port}`) : config.publicUrl,
  };
}

/** What to do when nothing answers where the CLI looked. */
export const noServer = (base: string): string =>
  `no Sharedcare server answers at ${base}: start it first (npm start, or sharedcare serve), or pass --server URL with the address it prints (e.g. --server http://127.0.0.1:18080)`;
