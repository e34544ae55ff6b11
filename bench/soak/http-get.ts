/**
 * The soak's GETs, on node:http with kept-alive connections rather than fetch: the harness shares
 * the machine's two cores with the server and the database, and fetch (undici's WHATWG streams)
 * cost it about 4–6 ms of CPU per record open of 500 KiB, as much as the server's own work
 * (measured with the soak's CPU columns). The body is still read to the end and decompressed, as a
 * clinical system would, in zlib's one-shot call (libuv's pool).
 */
import { Agent, get } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import type { Outcome } from './load.ts';

const agent = new Agent({ keepAlive: true });
const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/**
 * One output chunk for the whole body: gzip's trailer ends with the uncompressed size (ISIZE, mod
 * 2^32). With zlib's default 16 KiB chunks a 500 KiB Bundle came back to the event loop about 33
 * times, each a new Buffer: a profile of the harness found zlib's callbacks and the garbage they
 * left at over half its busy time.
 */
function outputChunk(gz: Buffer): number {
  const size = gz.length >= 18 ? gz.readUInt32LE(gz.length - 4) : 0;
  return Math.min(Math.max(64 * 1024, size + 1), 64 * 1024 * 1024);
}

/** GET with a bearer token: fine when the status is the expected one and the body decodes. */
export function httpGet(url: string, token: string, signal: AbortSignal, expected = 200): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = get(
      url,
      { agent, signal, headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip, deflate' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const enc = res.headers['content-encoding'];
          const decoded =
            enc === 'gzip'
              ? gunzipAsync(body, { chunkSize: outputChunk(body) })
              : enc === 'deflate'
                ? inflateAsync(body, { chunkSize: 1 << 20 })
                : Promise.resolve(body);
          decoded.then(
            () =>
              resolve(
                res.statusCode === expected ? { ok: true } : { ok: false, kind: `http ${res.statusCode}` },
              ),
            () => resolve({ ok: false, kind: `undecodable ${String(enc)} body` }),
          );
        });
      },
    );
    req.on('error', reject);
  });
}
