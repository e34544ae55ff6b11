/**
 * The soak's GETs, on node:http with kept-alive connections rather than fetch: the harness shares
 * the machine's two cores with the server and the database, and fetch (undici's WHATWG streams)
 * cost it about 4–6 ms of CPU per record open of 500 KiB, as much as the server's own work
 * (measured with the soak's CPU columns). The body is still read to the end and decompressed, as a
 * clinical system would, but in a worker thread (gunzip-worker.mjs), its bytes transferred there:
 * every body and its decompressed copy are memory outside V8's heap, and each 64 MiB of that makes
 * V8 collect the whole heap of the thread that allocated it. In the harness's own thread (with
 * ~80 MiB of live heap: the intake's records, written before the load) that was a full collection
 * every 0.3 s at 50 opens a second, 1.2–1.6 s of its CPU every 10 s (`node --trace-gc`: "external
 * memory pressure"), and the harness late to send.
 */
import { Agent, get } from 'node:http';
import { Worker } from 'node:worker_threads';
import type { Outcome } from './load.ts';

const agent = new Agent({ keepAlive: true });

/**
 * What a browser sends (less zstd, which Node 20 cannot decode): clinicians open records in the
 * viewer, whose requests are the browser's.
 */
const ACCEPT_ENCODING = 'gzip, deflate, br';

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, (ok: boolean) => void>();

function decoder(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./gunzip-worker.mjs', import.meta.url));
  w.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
    waiting.get(id)?.(ok);
    waiting.delete(id);
    if (waiting.size === 0) w.unref();
  });
  w.on('error', () => {
    for (const done of waiting.values()) done(false);
    waiting.clear();
    worker = undefined;
  });
  // held only while a body waits for it (as the PDF reader's thread, src/policy/pdf/extract.ts)
  w.unref();
  return (worker = w);
}

/** Whether a gzip, deflate or brotli body decodes; the body's own memory goes to the worker. */
function decodes(body: Buffer, encoding: string): Promise<boolean> {
  // the body's own memory when it has it (concat of more than 4 KiB allocates outside Buffer's
  // shared pool); a smaller one is copied into a Uint8Array of its own, never the pool, which a
  // transfer would take from every other Buffer
  const own =
    body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : new Uint8Array(body);
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    decoder().ref();
    decoder().postMessage({ id, encoding, body: own.buffer }, [own.buffer as ArrayBuffer]);
  });
}

/**
 * GET with a bearer token: fine when the status is the expected one and the body decodes.
 *
 * A kept-alive connection that the server closed for idleness (Fastify's keepAliveTimeout) just
 * as a request went out on it is reset before the server read anything: browsers and HTTP client
 * libraries send such an idempotent request again on a new connection, and so does this, once, as
 * Node's documentation advises (`request.reusedSocket`). A reset on a new connection, or a second
 * one, is the server's failure and is counted.
 */
export function httpGet(url: string, token: string, signal: AbortSignal, expected = 200): Promise<Outcome> {
  return getOnce(url, token, signal, expected).catch((err: unknown) => {
    if (err instanceof ReusedSocketReset && !signal.aborted) return getOnce(url, token, signal, expected);
    throw err instanceof ReusedSocketReset ? err.cause : err;
  });
}

/** A reset of a kept-alive connection before any answer came back on it. */
class ReusedSocketReset extends Error {}

function getOnce(url: string, token: string, signal: AbortSignal, expected: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = get(
      url,
      { agent, signal, headers: { authorization: `Bearer ${token}`, 'accept-encoding': ACCEPT_ENCODING } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const enc = res.headers['content-encoding'];
          const status: Outcome =
            res.statusCode === expected ? { ok: true } : { ok: false, kind: `http ${res.statusCode}` };
          if (enc !== 'gzip' && enc !== 'deflate' && enc !== 'br') return resolve(status);
          void decodes(Buffer.concat(chunks), enc).then((ok) =>
            resolve(ok ? status : { ok: false, kind: `undecodable ${enc} body` }),
          );
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        req.reusedSocket && err.code === 'ECONNRESET' ? new ReusedSocketReset('reset', { cause: err }) : err,
      ),
    );
  });
}
