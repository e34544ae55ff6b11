import type { FastifyRequest } from 'fastify';
import {
  ADMIN_ROLE,
  DPO_ROLE,
  type Principal,
  type SourcePrincipal,
  type UserPrincipal,
} from '../access/index.ts';
import { SharedcareError } from '../errors/index.ts';
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

async function principalOf(services: Services, req: FastifyRequest): Promise<Principal> {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!m)
    throw new SharedcareError('unauthenticated', 'a bearer token is required (Authorization: Bearer …)');
  return services.authenticate(m[1]!);
}

export async function requireUser(services: Services, req: FastifyRequest): Promise<UserPrincipal> {
  const p = await principalOf(services, req);
  if (p.kind !== 'user')
    throw new SharedcareError('forbidden', 'this endpoint is for users, not source systems');
  return p;
}

export async function requireSource(services: Services, req: FastifyRequest): Promise<SourcePrincipal> {
  const p = await principalOf(services, req);
  if (p.kind !== 'source')
    throw new SharedcareError('forbidden', 'this endpoint is for source systems; use a source token');
  return p;
}

export async function requireRole(
  services: Services,
  req: FastifyRequest,
  role: typeof ADMIN_ROLE | typeof DPO_ROLE,
): Promise<UserPrincipal> {
  const user = await requireUser(services, req);
  if (user.role !== role) throw new SharedcareError('forbidden', `this endpoint needs the ${role} role`);
  return user;
}
