/**
 * SMART on FHIR: discovery, the clinical system's launch registration, authorize and token.
 * See src/access/smart.ts for the flow.
 */
import type { FastifyInstance } from 'fastify';
import {
  authorize,
  authorizeStandalone,
  beginSignIn,
  checkAuthorizeRequest,
  DEFAULT_ROLES,
  finishSignIn,
  signInProvider,
  exchangeCode,
  smartConfiguration,
  type AuthorizeRequest,
  type TokenRequest,
} from '../access/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { findPersonByNhsNumber, isValidNhsNumber, normaliseNhsNumber } from '../identity/index.ts';
import { readContextOf, requireUser } from './auth.ts';
import type { Services } from './context.ts';

/** The viewer served by Sharedcare itself is always a registered SMART app. */
export const VIEWER_CLIENT_ID = 'sharedcare-viewer';

export function registerSmartRoutes(app: FastifyInstance, services: Services): void {
  const { config, db } = services;
  const fhirBase = `${config.publicUrl}/fhir`;
  const clients = [
    // the viewer's record page is its one redirect (viewer/src/launch.ts)
    { clientId: VIEWER_CLIENT_ID, redirectUris: [`${config.publicUrl}/viewer/`] },
    ...config.smartClients,
  ];

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
    app.get(path, async () => smartConfiguration(config.publicUrl));
  }

  // The clinical system registers who is looking at which patient (back channel, user's token).
  app.post('/launch', async (req, reply) => {
    const user = await requireUser(services, req);
    const nhs = normaliseNhsNumber(String((req.body as { patient?: unknown } | undefined)?.patient ?? ''));
    if (!isValidNhsNumber(nhs)) {
      throw new SharedcareError('invalid-request', 'patient must be a valid NHS number', [
        { message: 'patient must be a valid NHS number', expression: 'patient' },
      ]);
    }
    const launch = await services.gate.launch(readContextOf(req, user), nhs);
    return reply.code(201).send({ ...launch, iss: fhirBase });
  });

  const signIn = signInProvider(config.identityProviders);
  const callbackUrl = `${config.publicUrl}/oauth/callback`;
  const roles = { ...DEFAULT_ROLES, ...config.access.roles };

  /** Sends the user back to the app with an OAuth error, so that it can say what happened. */
  const backToApp = (req: AuthorizeRequest, error: string, description: string) => {
    const back = new URL(req.redirect_uri!);
    back.searchParams.set('error', error);
    back.searchParams.set('error_description', description);
    if (req.state) back.searchParams.set('state', req.state);
    return back.toString();
  };

  app.get<{ Querystring: AuthorizeRequest }>('/oauth/authorize', async (req, reply) => {
    // A request from an unknown app or to an unregistered redirect is answered here (400): sending
    // the user to an address nobody registered would be an open redirect.
    checkAuthorizeRequest(req.query, clients, fhirBase);
    try {
      // No launch id: a standalone launch, for administrators and the DPO, who sign in at the
      // region's identity provider first.
      if (!req.query.launch && signIn)
        return reply.redirect(await beginSignIn(db, signIn, req.query, callbackUrl), 302);
      const { redirect } = await authorize(db, req.query, clients, fhirBase);
      return reply.redirect(redirect, 302);
    } catch (err) {
      if (!(err instanceof SharedcareError)) throw err;
      return reply.redirect(backToApp(req.query, 'invalid_request', err.message), 302);
    }
  });

  app.get('/oauth/callback', async (req, reply) => {
    if (!signIn) throw new SharedcareError('not-found', 'no identity provider is configured for signing in');
    const current = new URL(req.url, config.publicUrl);
    const result = await finishSignIn(db, signIn, current, roles);
    const client = checkAuthorizeRequest(result.request, clients, fhirBase);
    // tell the app, as OAuth does, so that it can show the reason
    if ('refused' in result)
      return reply.redirect(backToApp(result.request, 'access_denied', result.refused.message), 302);
    const { redirect } = await authorizeStandalone(db, result.request, client, result.user);
    return reply.redirect(redirect, 302);
  });

  app.post('/oauth/token', async (req, reply) => {
    const token = await exchangeCode(db, (req.body ?? {}) as TokenRequest, config.sessionSecret);
    const person = token.nhsNumber ? await findPersonByNhsNumber(db, token.nhsNumber) : undefined;
    return reply.header('cache-control', 'no-store').send({
      access_token: token.access_token,
      token_type: token.token_type,
      expires_in: token.expires_in,
      scope: token.scope,
      need_patient_banner: true,
      ...(person ? { patient: person.id } : {}),
    });
  });
}
