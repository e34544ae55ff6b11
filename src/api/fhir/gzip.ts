/**
 * gzip of large FHIR responses in one asynchronous call. @fastify/compress compresses a buffered
 * payload either synchronously on the event loop (below its syncThreshold) or through a zlib
 * stream, whose every output chunk comes back to the event loop, is framed as an HTTP chunk and
 * written to the socket on its own. A record open's Bundle is already one Buffer of a few hundred
 * KiB: zlib's one-shot `gzip()` deflates it in libuv's thread pool, off the event loop, and the
 * answer goes out in one write with its Content-Length. Measured in the soak (BENCHMARKS.md): the
 * stream path was about a quarter of the server's CPU per open (zlib's stream callbacks and the
 * socket writes). Smaller payloads, and every other encoding decision, stay with
 * @fastify/compress, which runs after this hook and leaves an answer that already has a
 * Content-Encoding alone.
 */
import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * zlib's level 3 (its fast strategy) rather than the default 6 for these large answers: measured
 * on Bundles of Synthea records of 230–360 KiB, half the CPU (0.36–0.71 ms against 0.83–1.53 ms)
 * for output 25–30 % larger (34 KiB against 26 KiB for the largest): on two cores shared with the
 * database the CPU is worth more than a few KiB on the clinician's network.
 */
const LEVEL = 3;

/** Payloads from this size up are compressed here; smaller ones by @fastify/compress. */
export const ONE_SHOT_FROM_BYTES = 64 * 1024;

/** The encoding @fastify/compress would choose (the same negotiator, "*" and x-gzip as gzip). */
function wantsGzip(req: FastifyRequest): boolean {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string' || req.headers['x-no-compression'] !== undefined) return false;
  return negotiate(header.toLowerCase().replace(/\*|x-gzip/g, 'gzip'), ['gzip', 'deflate']) === 'gzip';
}

/** onSend hook of the FHIR read routes: a large Buffer answer gzipped in the thread pool. */
export async function gzipLargeAnswer(
  req: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  if (!Buffer.isBuffer(payload) || payload.length < ONE_SHOT_FROM_BYTES) return payload;
  if (reply.getHeader('content-encoding') !== undefined || !wantsGzip(req)) return payload;
  // an output chunk big enough for the whole answer: each chunk of zlib's default 16 KiB comes back
  // to the event loop on its own (measured: 0.39 ms of the loop per 350 KiB answer, 0.18 with one)
  const compressed = await gzipAsync(payload, {
    level: LEVEL,
    chunkSize: Math.max(ONE_SHOT_FROM_BYTES, payload.length >> 2),
  });
  const vary = reply.getHeader('vary');
  reply
    .header('content-encoding', 'gzip')
    .header('vary', vary ? `${String(vary)}, accept-encoding` : 'accept-encoding')
    .header('content-length', compressed.length);
  return compressed;
}
