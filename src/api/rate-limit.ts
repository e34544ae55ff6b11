/**
 * Rate limits: requests per minute per client address (SHAREDCARE_RATE_LIMIT), with
 * @fastify/rate-limit. Its own store counts in the process's memory, so with several server
 * processes (`sharedcare serve --workers N`) each would allow the full limit; on PostgreSQL the
 * counts are kept in the database instead (the rate_limit table, migration 021), in the one
 * statement below, which @fastify/rate-limit's custom-store interface calls for each request. The
 * plugin ships a Redis store only, and Sharedcare shares nothing but the database.
 */
import { createHash } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import type { Services } from './context.ts';

type Incr = (
  key: string,
  cb: (err: Error | null, res?: { current: number; ttl: number }) => void,
  timeWindow: number,
  max: number,
) => void;

/** How often (in counted requests, per process) windows long over are deleted. */
const SWEEP_EVERY = 1000;

/** A @fastify/rate-limit store class whose counts live in PostgreSQL; `now` is the app's clock. */
export function postgresRateLimitStore(db: Queryable, now: () => number) {
  let counted = 0;
  return class PostgresRateLimitStore {
    incr: Incr = (key, cb, timeWindow) => {
      const at = now();
      // One round trip: a new window, or one more hit in the current one. Concurrent requests from
      // any process serialise on the row, so no hit is lost.
      db.query<{ hits: number; ttl: string }>(
        `INSERT INTO rate_limit AS r (key, window_end, hits) VALUES ($1, $2::bigint + $3::bigint, 1)
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN r.window_end <= $2::bigint THEN 1 ELSE r.hits + 1 END,
           window_end = CASE WHEN r.window_end <= $2::bigint THEN $2::bigint + $3::bigint ELSE r.window_end END
         RETURNING hits, r.window_end - $2::bigint AS ttl`,
        [key, at, timeWindow],
      ).then(
        ({ rows }) => {
          if (++counted % SWEEP_EVERY === 0)
            db.query('DELETE FROM rate_limit WHERE window_end < $1::bigint', [at - timeWindow]).catch(
              () => undefined,
            );
          cb(null, { current: rows[0]!.hits, ttl: Number(rows[0]!.ttl) });
        },
        (err: Error) => cb(err),
      );
    };

    child(): PostgresRateLimitStore {
      return new PostgresRateLimitStore();
    }
  };
}

/** Operators' probes are never limited: an orchestrator must always learn whether we are up. */
const EXEMPT = new Set(['/health', '/ready', '/metrics']);

/** The client's key: a hash of its address (the table need not hold addresses). */
const keyOf = (req: FastifyRequest) => createHash('sha256').update(req.ip).digest('base64url').slice(0, 22);

/** Limits every request but the probes to `rateLimitPerMinute` per client address, if set. */
export function registerRateLimit(
  app: FastifyInstance,
  services: Services,
  clock: () => number = Date.now,
): void {
  const max = services.config.rateLimitPerMinute;
  if (max <= 0) return;
  app.register(fastifyRateLimit, {
    global: false,
    max,
    timeWindow: 60_000,
    keyGenerator: keyOf,
    ...(services.db.kind === 'postgres' ? { store: postgresRateLimitStore(services.db, clock) } : {}),
    errorResponseBuilder: (_req, ctx) =>
      new SharedcareError(
        'too-many-requests',
        `more than ${ctx.max} requests a minute from this address: try again in ${ctx.after}`,
      ),
  });
  // Routes are added before the plugin has loaded, so its handler is used from a hook of our own.
  let limit: ReturnType<FastifyInstance['rateLimit']> | undefined;
  app.addHook('onRequest', async function (req, reply) {
    if (EXEMPT.has(req.url.split('?', 1)[0]!)) return;
    limit ??= this.rateLimit();
    await limit.call(this, req, reply);
  });
}
