/**
 * Large FHIR answers (a record open's Bundle: hundreds of KiB to megabytes) compressed in one
 * asynchronous call. @fastify/compress compresses a buffered payload either synchronously on the
 * event loop (below its syncThreshold) or through a zlib stream, whose every output chunk comes back
 * to the event loop, is framed as an HTTP chunk and written to the socket on its own. A record
 * open's Bundle is already one Buffer: zlib's one-shot calls compress it in libuv's thread pool, off
 * the event loop, and the answer goes out in one write with its Content-Length. Measured in the
 * soak (BENCHMARKS.md): the stream path was about a quarter of the server's CPU per open (zlib's
 * stream callbacks and the socket writes). Smaller payloads, and every other encoding decision,
 * stay with @fastify/compress, which runs after this hook and leaves an answer that already has a
 * Content-Encoding alone.
 *
 * Brotli first, where the client takes it (every browser does, so the viewer's opens go this way),
 * then gzip. Measured on Synthea bundles of 610–969 KiB on the 2-core machine (BENCHMARKS.md):
 * brotli at quality 1 took 0.4–1.3 ms of CPU for 25–40 KiB, gzip at level 3 1.5–3.4 ms for
 * 43–72 KiB. Compression was the largest single part of a record open's server CPU.
 */
import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/**
 * zlib's level 3 (its fast strategy) rather than the default 6 for these large answers: measured
 * on Bundles of Synthea records of 230–360 KiB, half the CPU (0.36–0.71 ms against 0.83–1.53 ms)
 * for output 25–30 % larger (34 KiB against 26 KiB for the largest): on two cores shared with the
 * database the CPU is worth more than a few KiB on the clinician's network. Level 1 was no cheaper
 * on Synthea bundles and 20 % larger.
 */
const GZIP_LEVEL = 3;

/**
 * Brotli's quality 1: a third to a sixth of gzip's CPU above, and smaller. Quality 2 doubled the
 * CPU for 0–5 % less output; @fastify/compress's default (4) is slower than gzip.
 */
const BROTLI_QUALITY = 1;

/** Payloads from this size up are compressed here; smaller ones by @fastify/compress. */
export const ONE_SHOT_FROM_BYTES = 64 * 1024;

/**
 * The encoding for a large answer, or undefined to leave it to @fastify/compress (deflate only, or
 * none). "*" and x-gzip mean gzip, as @fastify/compress reads them.
 */
function largeAnswerEncoding(req: FastifyRequest): 'br' | 'gzip' | undefined {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string' || req.headers['x-no-compression'] !== undefined) return undefined;
  const chosen = negotiate(header.toLowerCase().replace(/\*|x-gzip/g, 'gzip'), ['br', 'gzip', 'deflate']);
  return chosen === 'br' || chosen === 'gzip' ? chosen : undefined;
}

/** onSend hook of the FHIR read routes: a large Buffer answer compressed in the thread pool. */
export async function compressLargeAnswer(
  req: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  if (!Buffer.isBuffer(payload) || payload.length < ONE_SHOT_FROM_BYTES) return payload;
  if (reply.getHeader('content-encoding') !== undefined) return payload;
  const encoding = largeAnswerEncoding(req);
  if (encoding === undefined) return payload;
  // an output chunk big enough for the whole answer: each chunk of zlib's default 16 KiB comes back
  // to the event loop on its own (measured: 0.39 ms of the loop per 350 KiB answer gzipped, 0.18
  // with one; brotli of a 969 KiB Synthea bundle, 1.28-1.39 ms of CPU against 1.06-1.13 with one)
  const chunkSize = Math.max(ONE_SHOT_FROM_BYTES, payload.length >> 2);
  const compressed =
    encoding === 'br'
      ? await brotliAsync(payload, {
          chunkSize,
          params: {
            [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
            [constants.BROTLI_PARAM_SIZE_HINT]: payload.length,
          },
        })
      : await gzipAsync(payload, { level: GZIP_LEVEL, chunkSize });
  const vary = reply.getHeader('vary');
  reply
    .header('content-encoding', encoding)
    .header('vary', vary ? `${String(vary)}, accept-encoding` : 'accept-encoding')
    .header('content-length', compressed.length);
  return compressed;
}
