/**
 * Security headers on every response, through @fastify/helmet: a Content Security Policy that
 * allows nothing from elsewhere (the viewer is built to need nothing else: docs/security.md), framing
 * only by the clinical systems the configuration names (frameAncestors; none by default, and then
 * X-Frame-Options DENY as well), nosniff, no referrer, HSTS in production (which is served over
 * TLS). Responses carry patient data or governance data, so none may be cached: `no-store`
 * everywhere except the viewer's content-hashed bundles.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.ts';

const CACHEABLE = /^\/viewer\/assets\//;

export function contentSecurityPolicy(config: Pick<Config, 'frameAncestors' | 'production'>) {
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: config.frameAncestors.length ? ["'self'", ...config.frameAncestors] : ["'none'"],
      ...(config.production ? { upgradeInsecureRequests: [] } : {}),
    },
  };
}

export function registerSecurityHeaders(app: FastifyInstance, config: Config): void {
  void app.register(helmet, {
    contentSecurityPolicy: contentSecurityPolicy(config),
    // X-Frame-Options cannot name several origins: with an allow-list, CSP frame-ancestors decides
    frameguard: config.frameAncestors.length ? false : { action: 'deny' },
    strictTransportSecurity: config.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onSend', async (req, reply) => {
    if (!CACHEABLE.test(req.url)) reply.header('cache-control', 'no-store');
  });
}
