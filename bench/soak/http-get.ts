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
              ? gunzipAsync(body)
              : enc === 'deflate'
                ? inflateAsync(body)
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
