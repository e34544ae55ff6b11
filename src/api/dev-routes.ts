/**
 * Development only: a stand-in for a clinical system. `GET /dev/ehr/open?user&org&role&nhs`
 * does what a clinical system does when its user clicks "Shared Care Record": it registers the
 * launch context over the back channel (as that user, from the development issuer) and sends the
 * browser to the viewer with the opaque launch id. It exists so that `sharedcare demo` can print
 * links that keep working (a launch id is single use and lasts five minutes).
 *
 * Registered only outside production mode, and answers only requests from this machine: it needs
 * no secret, so it must never be reachable by anyone else.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createLaunch, DEV_ISSUER, type UserPrincipal } from '../access/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { isValidNhsNumber, normaliseNhsNumber } from '../identity/index.ts';
import type { Services } from './context.ts';

/** Where the viewer's SMART launch page lives; `sharedcare launch-url` prints the same shape. */
export function viewerLaunchUrl(publicUrl: string, iss: string, launch: string): string {
  return `${publicUrl}/viewer/launch?${new URLSearchParams({ iss, launch }).toString()}`;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

interface OpenQuery {
  user?: string;
  org?: string;
  role?: string;
  nhs?: string;
  name?: string;
}

export function registerDevRoutes(app: FastifyInstance, services: Services): void {
  const { config, db } = services;
  if (config.production || !config.devIssuerSecret) return;
  const fhirBase = `${config.publicUrl}/fhir`;

  app.get('/dev/ehr/open', async (req: FastifyRequest<{ Querystring: OpenQuery }>, reply) => {
    if (!LOOPBACK.has(req.ip))
      throw new SharedcareError('forbidden', 'the simulated clinical system answers only this machine');
    const { user, org, role, name } = req.query;
    const nhs = normaliseNhsNumber(req.query.nhs ?? '');
    const missing = (['user', 'org', 'role'] as const).filter((k) => !req.query[k]);
    // a person's browser is here: a number that fails the check digit gets the viewer's plain page
    if (!missing.length && !isValidNhsNumber(nhs))
      return reply.redirect(`${config.publicUrl}/viewer/launch?problem=nhs-number-invalid`, 302);
    if (missing.length) {
      const problems = [
        ...missing.map((k) => ({ message: `${k} is required`, expression: k })),
        ...(isValidNhsNumber(nhs)
          ? []
          : [{ message: 'nhs must be a valid NHS number (it fails the check digit)', expression: 'nhs' }]),
      ];
      throw new SharedcareError('invalid-request', problems.map((p) => p.message).join('; '), problems);
    }
    const principal: UserPrincipal = {
      kind: 'user',
      userId: user!,
      org: org!,
      role: role!,
      ...(name ? { name } : {}),
      issuer: DEV_ISSUER,
    };
    const { launch } = await createLaunch(db, principal, nhs);
    return reply.redirect(viewerLaunchUrl(config.publicUrl, fhirBase, launch), 302);
  });
}
