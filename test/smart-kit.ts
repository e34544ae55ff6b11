/** What the SMART launch tests share: a port, a listening server, the app's session storage. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts the server on a free loopback port; returns its base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A free loopback port (for a server whose address must be known before it starts). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const url = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return Number(new URL(url).port);
}

/** fhirclient's storage contract, kept in memory for the app's one session. */
export function memoryStorage() {
  const m = new Map<string, unknown>();
  return {
    get: async (k: string) => m.get(k),
    set: async (k: string, v: unknown) => (m.set(k, v), v),
    unset: async (k: string) => m.delete(k),
  };
}
