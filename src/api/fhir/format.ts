/**
 * What every FHIR response shares: JSON only (an XML request answers 406 with an OperationOutcome,
 * as FHIR asks of a server that cannot give the format), `Prefer: handling=strict|lenient`, the
 * version as a weak ETag with If-None-Match answered 304, and compression (large answers: brotli or
 * gzip, large-answer.ts; the rest: gzip, @fastify/compress).
 */
import compress from '@fastify/compress';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SharedcareError } from '../../errors/index.ts';
import { compressLargeAnswer } from './large-answer.ts';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/**
 * gzip, else deflate; FHIR's media type is not in the registry's list of compressible types. A
 * route's own `compress` options replace the plugin's (defaults included: brotli first) rather
 * than adding to them, so the routes carry these too.
 */
const COMPRESSION = { encodings: ['gzip', 'deflate'], customTypes: /^application\/(fhir\+)?json/ } satisfies {
  encodings: ('gzip' | 'deflate')[];
  customTypes: RegExp;
};

/**
 * The route options every FHIR read route carries: compression when the client accepts it, large
 * answers in one call in the thread pool (large-answer.ts: brotli where the client takes it, else
 * gzip), the rest by @fastify/compress, whose onSend hook it appends after this one.
 */
export const FHIR_ROUTE = { compress: COMPRESSION, onSend: compressLargeAnswer };

export function send(reply: FastifyReply, body: string | Buffer): FastifyReply {
  return reply.header('content-type', FHIR_JSON).header('cache-control', 'no-store').send(body);
}

const JSON_TYPES = new Set([
  'json',
  'application/json',
  'application/fhir+json',
  'application/json+fhir',
  '*/*',
  'application/*',
]);

/** Whether an Accept header or a _format value lets us answer JSON. */
function allowsJson(value: string): boolean {
  return value
    .split(',')
    .map((part) => part.split(';')[0]!.trim().toLowerCase())
    .some((t) => t === '' || JSON_TYPES.has(t));
}

/** 406 for anything but JSON: the error handler answers it as an OperationOutcome. */
export function checkFormat(req: FastifyRequest): void {
  const format = (req.query as Record<string, unknown> | undefined)?._format;
  if (typeof format === 'string' && !allowsJson(format))
    throw new SharedcareError('not-acceptable', 'this server answers FHIR JSON only', [
      {
        message: `_format=${format} is not supported: use _format=json (or leave it out)`,
        expression: '_format',
      },
    ]);
  const accept = req.headers.accept;
  if (typeof format !== 'string' && accept && !allowsJson(accept))
    throw new SharedcareError('not-acceptable', 'this server answers FHIR JSON only', [
      { message: 'Accept application/fhir+json: XML and other formats are not served', expression: 'Accept' },
    ]);
}

/** Prefer: handling=strict refuses unknown search parameters; lenient (the default) ignores them. */
export function isStrict(req: FastifyRequest): boolean {
  const prefer = req.headers.prefer;
  const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  return /(^|[,;\s])handling\s*=\s*"?strict"?/i.test(text);
}

/** A weak ETag from a resource's meta.versionId. */
export function etagOf(body: string): string | undefined {
  const m = /"versionId"\s*:\s*"([^"]+)"/.exec(body);
  return m ? `W/"${m[1]}"` : undefined;
}

/** Whether If-None-Match names this ETag (weak comparison, as RFC 9110 asks for GET). */
export function notModified(req: FastifyRequest, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

/**
 * gzip for the routes registered on `fhir` after it (@fastify/compress attaches itself to routes
 * as they are added, so it must have loaded first: the caller awaits this inside its plugin).
 */
export async function registerCompression(fhir: FastifyInstance): Promise<void> {
  // global: false: only routes that carry FHIR_ROUTE are compressed (payloads over 1 KiB)
  await fhir.register(compress, { global: false, ...COMPRESSION });
}

/** 406 for everything under /fhir that asks for anything but JSON. */
export function registerFormatCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    if (req.url === '/fhir' || req.url.startsWith('/fhir/') || req.url.startsWith('/fhir?')) checkFormat(req);
  });
}
