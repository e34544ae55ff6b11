/**
 * The HTTP server. The only module that knows HTTP: it authenticates, parses, hands work to the
 * gate / ingest / admin services, and maps errors in one place (OperationOutcome for FHIR and
 * ingest, problem+json for admin and DPO). Unknown errors are logged and answered generically.
 */
import cluster from 'node:cluster';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { checkJsonText, checkQuery, checkRequestValues, errorToOperationOutcome } from '../fhir/index.ts';
import { ERROR_CODES, SharedcareError } from '../errors/index.ts';
import { isDatabaseUnavailable } from '../db/index.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { registerBackupRoutes } from './backup-routes.ts';
import { registerRefusalAudit } from './auth.ts';
import { registerDpoRoutes } from './dpo-routes.ts';
import { registerIdentityRoutes } from './identity-routes.ts';
import { registerDevRoutes } from './dev-routes.ts';
import { registerObjectionRoutes } from './objection-routes.ts';
import { registerSensitivityRoutes } from './sensitivity-routes.ts';
import type { Services } from './context.ts';
import { registerBreakGlassRoute, registerFhirRoutes } from './fhir-routes.ts';
import { registerIngestRoutes } from './ingest-routes.ts';
import { registerFeedRoutes } from './feed-routes.ts';
import { registerSmartRoutes } from './smart-routes.ts';
import { registerOpsRoutes } from './ops-routes.ts';
import { registerReadOnlyRoutes } from './read-only-routes.ts';
import { registerRetentionRoutes } from './retention-routes.ts';
import { registerViewerRoutes } from './viewer-routes.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { registerRateLimit } from './rate-limit.ts';

export const BODY_LIMIT = 64 * 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Query parameters whose names are logged (values never are); others are counted. */
const KNOWN_PARAMS = new Set(
  'patient subject identifier date status code _format _count user person from to launch iss state'.split(
    ' ',
  ),
);

/**
 * What a log line says about the URL: the route with its id parameters (anything else in a path or
 * query value may be an NHS number or free text), and the names of known query parameters.
 */
function safeUrl(req: FastifyRequest): string {
  const route = req.routeOptions.url;
  if (!route) return '(no route)';
  const params = (req.params ?? {}) as Record<string, unknown>;
  const path = route.replace(/:([A-Za-z_]+)/g, (m, name: string) => {
    const v = params[name];
    return typeof v === 'string' && UUID.test(v) ? v : m;
  });
  const query = req.url.split('?', 2)[1];
  if (!query) return path;
  const keys = [...new URLSearchParams(query).keys()];
  const known = keys.filter((k) => KNOWN_PARAMS.has(k)).map((k) => `${k}=…`);
  const others = keys.length - known.length;
  return `${path}?${[...known, ...(others ? [`(${others} other)`] : [])].join('&')}`;
}

function fastifyErrorToOurs(err: {
  statusCode?: number;
  code?: string;
  message: string;
}): SharedcareError | undefined {
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new SharedcareError(
      'unsupported-media-type',
      'send application/fhir+json or application/fhir+ndjson',
    );
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new SharedcareError(
      'payload-too-large',
      `the body is larger than ${BODY_LIMIT / 1024 / 1024} MiB; split it`,
    );
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return new SharedcareError('invalid-request', 'the body is not valid JSON');
  if (err.statusCode && err.statusCode < 500) return new SharedcareError('invalid-request', err.message);
  if (isDatabaseUnavailable(err))
    return new SharedcareError(
      'unavailable',
      'the database is not available (it may be failing over): nothing was changed; try again shortly',
    );
  return undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON body's text. FHIR's JSON is UTF-8: a body in another charset, or compressed, is refused
 * with what to send instead (a Latin-1 "Müller" read as UTF-8 became "M\uFFFDller", stored, and
 * matched on), as is one that says it is of another FHIR version than R4; bytes that are not UTF-8
 * are refused, not replaced; a byte-order mark is dropped.
 */
export function jsonBodyText(
  headers: { 'content-type'?: string; 'content-encoding'?: string },
  raw: Buffer,
): string {
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity')
    throw new SharedcareError(
      'unsupported-media-type',
      `Content-Encoding ${encoding} is not accepted: send the body uncompressed`,
    );
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw new SharedcareError(
      'unsupported-media-type',
      `charset ${charset} is not accepted: FHIR JSON is UTF-8 (send charset=utf-8)`,
    );
  const version = /;\s*fhirVersion\s*=\s*"?([^";\s]+)/i.exec(headers['content-type'] ?? '')?.[1];
  if (version !== undefined && !/^4\.0(\.\d+)?$/.test(version))
    throw new SharedcareError(
      'unsupported-media-type',
      `fhirVersion ${version} is not accepted: this server speaks FHIR R4 (fhirVersion=4.0)`,
    );
  const bytes = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? raw.subarray(3) : raw;
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new SharedcareError('invalid-request', 'the body is not valid UTF-8: FHIR JSON is UTF-8');
  }
}

export function buildServer(services: Services): FastifyInstance {
  const app = Fastify({
    loggerInstance: services.log as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Fastify's own request lines carry the full URL (query values may be NHS numbers): ours log a safe form.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => crypto.randomUUID(),
  });

  registerSecurityHeaders(app, services.config);
  registerRateLimit(app, services);
  if (services.config.exposeWorker && !services.config.production)
    app.addHook('onSend', async (_req, reply) => {
      reply.header('x-sharedcare-worker', String(cluster.worker?.id ?? 0));
    });

  // Bodies from sources are parsed by ingest (it reports errors by entry); keep them as text here.
  app.addContentTypeParser(
    [
      'application/json',
      'application/fhir+json',
      'application/fhir+ndjson',
      'application/x-ndjson',
      'application/ndjson',
    ],
    { parseAs: 'buffer' },
    (req, raw, done) => {
      let body: string;
      try {
        body = jsonBodyText(req.headers, raw as Buffer);
      } catch (err) {
        return done(err as SharedcareError, undefined);
      }
      if (req.url.startsWith('/ingest/')) return done(null, body); // ingest guards and parses it itself
      try {
        checkJsonText(body);
      } catch (err) {
        return done(err as SharedcareError, undefined);
      }
      try {
        done(null, body.length ? JSON.parse(body) : undefined);
      } catch {
        done(new SharedcareError('invalid-request', 'the body is not valid JSON'), undefined);
      }
    },
  );

  // No route sees a query-string or path value that is not text, nor a repeated parameter it does
  // not expect (src/fhir/guard.ts).
  app.addHook('preValidation', async (req) => {
    checkQuery(req.query as Record<string, unknown>);
    checkRequestValues(req.params as Record<string, unknown>, 'path');
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    services.metrics.httpDuration.observe(
      { route, method: req.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    req.log.info(
      {
        method: req.method,
        url: safeUrl(req),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  app.setErrorHandler((rawErr, req, reply) => {
    const err =
      rawErr instanceof SharedcareError
        ? rawErr
        : (fastifyErrorToOurs(rawErr as { code?: string; message: string }) ?? rawErr);
    if (!(err instanceof SharedcareError) || err.code === 'internal')
      req.log.error({ err, url: safeUrl(req) }, 'unhandled error');
    else if (err.code === 'unavailable' || err.code === 'audit-unavailable') {
      // what failed is logged by its code (logSafeError), as for any database error
      req.log.warn({ err: rawErr, url: safeUrl(req) }, 'database unavailable: answered 503');
      reply.header('retry-after', '1');
    }
    if (req.url.startsWith('/oauth/') && err instanceof SharedcareError) {
      // OAuth 2.0 error response shape, which SMART clients read
      const error =
        err.code === 'unauthenticated'
          ? 'invalid_client'
          : req.url.startsWith('/oauth/token')
            ? 'invalid_grant'
            : 'invalid_request';
      return reply.code(err.status === 401 ? 401 : 400).send({ error, error_description: err.message });
    }
    // the DPO's reports are FHIR-shaped (a Bundle, an OperationOutcome) too
    const isFhir = ['/fhir', '/ingest', '/dpo/'].some((p) => req.url.startsWith(p));
    if (isFhir) {
      const { status, outcome } = errorToOperationOutcome(err);
      return reply.code(status).header('content-type', 'application/fhir+json; charset=utf-8').send(outcome);
    }
    if (err instanceof SharedcareError) {
      return reply
        .code(err.status)
        .header('content-type', 'application/problem+json')
        .send({
          type: `https://sharedcare.dev/errors/${err.code}`,
          title: err.message,
          status: err.status,
          problems: err.problems,
        });
    }
    return reply
      .code(500)
      .header('content-type', 'application/problem+json')
      .send({ type: 'about:blank', title: 'Internal error. It has been logged.', status: 500 });
  });

  app.setNotFoundHandler((req, reply) => {
    const err = new SharedcareError('not-found', `no route ${req.method} ${req.url.split('?')[0]}`);
    if (req.url.startsWith('/fhir')) {
      const { status, outcome } = errorToOperationOutcome(err);
      return reply.code(status).header('content-type', 'application/fhir+json; charset=utf-8').send(outcome);
    }
    return reply.code(404).send({
      type: 'https://sharedcare.dev/errors/not-found',
      title: err.message,
      status: ERROR_CODES['not-found'].status,
    });
  });

  registerRefusalAudit(app, services);
  registerOpsRoutes(app, services);
  registerFhirRoutes(app, services);
  registerBreakGlassRoute(app, services);
  registerReadOnlyRoutes(app);
  registerSmartRoutes(app, services);
  registerIngestRoutes(app, services);
  registerFeedRoutes(app, services);
  registerAdminRoutes(app, services);
  registerIdentityRoutes(app, services);
  registerDpoRoutes(app, services);
  registerRetentionRoutes(app, services);
  registerBackupRoutes(app, services);
  registerViewerRoutes(app, services);
  registerDevRoutes(app, services);
  registerObjectionRoutes(app, services);
  registerSensitivityRoutes(app, services);
  return app;
}
