/**
 * Who is calling, for each route: a user (the read API, the viewer, launches, administration and
 * the DPO) or a source system (intake). A request refused here, before it reaches the gate (no
 * token, a token that does not verify, a source's token where a user's is needed, a role that may
 * not), is recorded in the audit trail as `request.refused` (src/audit/refusals.ts aggregates
 * repeats and caps the rate). Intake's refusals are not: they are no attempt to read.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import {
  ADMIN_ROLE,
  CLI_ORG,
  DEV_ISSUER,
  DPO_ROLE,
  type Principal,
  type SourcePrincipal,
  type UserPrincipal,
} from '../access/index.ts';
import type { RefusedRequest } from '../admin/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { getOrganisation } from '../region/index.ts';
import type { ReadContext } from '../gate/index.ts';
import type { Services } from './context.ts';

/** Who is reading, from where: the audit event's user, client, network address and request id. */
export function readContextOf(req: FastifyRequest, user: UserPrincipal): ReadContext {
  return {
    user,
    network: req.ip,
    requestId: String(req.id),
    ...(user.client ? { client: user.client } : {}),
  };
}

/** The subject a token claims, read without verifying it (for the audit trail, marked unverified). */
function claimedSubject(token: string): string | undefined {
  try {
    const sub = decodeJwt(token).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** Records the refusal (the route as the server names it, never the URL), then returns the error. */
async function refused(
  services: Services,
  req: FastifyRequest,
  err: SharedcareError,
  who: Pick<RefusedRequest, 'reason' | 'user' | 'source' | 'unverifiedSubject'>,
): Promise<SharedcareError> {
  await services.refusals.record({
    route: `${req.method} ${req.routeOptions.url ?? 'unknown'}`,
    message: err.message,
    network: req.ip,
    requestId: String(req.id),
    ...who,
  });
  return err;
}

const auditUser = (u: UserPrincipal) => ({
  id: u.userId,
  org: u.org,
  role: u.role,
  issuer: u.issuer,
  ...(u.name ? { name: u.name } : {}),
});

async function principalOf(services: Services, req: FastifyRequest, audited: boolean): Promise<Principal> {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!m) {
    const err = new SharedcareError(
      'unauthenticated',
      'a bearer token is required (Authorization: Bearer …)',
    );
    throw audited ? await refused(services, req, err, { reason: 'no-token' }) : err;
  }
  try {
    return await services.authenticate(m[1]!);
  } catch (err) {
    if (!audited || !(err instanceof SharedcareError) || err.code !== 'unauthenticated') throw err;
    const sub = claimedSubject(m[1]!);
    throw await refused(services, req, err, {
      reason: 'token-invalid',
      ...(sub ? { unverifiedSubject: sub } : {}),
    });
  }
}

export async function requireUser(services: Services, req: FastifyRequest): Promise<UserPrincipal> {
  const p = await principalOf(services, req, true);
  if (p.kind !== 'user')
    throw await refused(
      services,
      req,
      new SharedcareError('forbidden', 'this endpoint is for users, not source systems'),
      { reason: 'not-a-user', source: p.sourceId },
    );
  return p;
}

export async function requireSource(services: Services, req: FastifyRequest): Promise<SourcePrincipal> {
  const p = await principalOf(services, req, false);
  if (p.kind !== 'source')
    throw new SharedcareError('forbidden', 'this endpoint is for source systems; use a source token');
  return p;
}

/** Refuses a verified user the endpoint (their role may not use it), recording the refusal. */
export function refuseUser(
  services: Services,
  req: FastifyRequest,
  user: UserPrincipal,
  message: string,
): Promise<SharedcareError> {
  return refused(services, req, new SharedcareError('forbidden', message), {
    reason: 'role',
    user: auditUser(user),
  });
}

/**
 * A governance role (administrator, data protection officer, an override role) reads or decides
 * about people only when held at an organisation of the region: a national role code (the Privacy Officer's R0001) is
 * held in every trust in England, and a clinical user from elsewhere is already refused at the
 * gate (org-unknown).
 */
export async function requireRegionOrganisation(
  services: Services,
  req: FastifyRequest,
  user: UserPrincipal,
): Promise<UserPrincipal> {
  // the command line's own actor, through a server it started (development issuer only: production
  // mode refuses that issuer's tokens)
  if (user.issuer === DEV_ISSUER && user.org === CLI_ORG) return user;
  if (!(await getOrganisation(services.db, user.org)))
    throw await refuseUser(
      services,
      req,
      user,
      `organisation ${user.org} does not take part in this shared care record`,
    );
  return user;
}

/** A user with one of these roles. */
export async function requireRole(
  services: Services,
  req: FastifyRequest,
  ...roles: (typeof ADMIN_ROLE | typeof DPO_ROLE)[]
): Promise<UserPrincipal> {
  const user = await requireUser(services, req);
  if (!(roles as string[]).includes(user.role))
    throw await refuseUser(services, req, user, `this endpoint needs the ${roles.join(' or ')} role`);
  return user;
}

/** requireRole, for what reads or decides about people: at an organisation of the region too. */
export async function requireGovernanceRole(
  services: Services,
  req: FastifyRequest,
  ...roles: (typeof ADMIN_ROLE | typeof DPO_ROLE)[]
): Promise<UserPrincipal> {
  return requireRegionOrganisation(services, req, await requireRole(services, req, ...roles));
}

/**
 * Writes the counted repeats of refused requests when each window is over, and what is left when
 * the server closes.
 */
export function registerRefusalAudit(app: FastifyInstance, services: Services): void {
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => void services.refusals.flush(), services.refusals.limits.windowSeconds * 1000);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await services.refusals.flush(true);
  });
}
