/**
 * The objection register and the national data opt-out, for administrators and the data protection
 * officer; overrides for the roles the region allows (config `policy.overrideRoles`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ADMIN_ROLE, DPO_ROLE, type UserPrincipal } from '../access/index.ts';
import { adminService } from '../admin/index.ts';
import { parse } from './admin-routes.ts';
import { requireGovernanceRole, requireRegionOrganisation, requireUser } from './auth.ts';
import type { Services } from './context.ts';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is YYYY-MM-DD');
const objectionBody = z.object({
  nhs: z.string(),
  scope: z.enum(['record', 'organisation', 'category', 'item']).default('record'),
  target: z.string().optional(),
  note: z.string().max(2000).optional(),
  requestedOn: date.optional(),
  requestSource: z.string().max(200).optional(),
});
const withdrawBody = z
  .object({ requestedOn: date.optional(), requestSource: z.string().max(200).optional() })
  .default({});
const overrideBody = z.object({
  ground: z.enum(['safeguarding', 'public-interest'], {
    error: 'an objection may be overridden only for safeguarding or public-interest',
  }),
  reason: z.string().min(10, 'give the reason for the override (at least 10 characters)').max(4000),
  endsOn: date,
  forOrg: z.string().optional(),
});
const optOutBody = z.object({ nhs: z.string(), optedOut: z.boolean(), source: z.string().min(1).max(200) });

export function registerObjectionRoutes(app: FastifyInstance, services: Services): void {
  const admin = adminService(services.db, {
    overrideRoles: services.config.policy.overrideRoles,
    ...(services.config.policy.regionName ? { regionName: services.config.policy.regionName } : {}),
  });
  /** The register is kept by administrators and the data protection officer. */
  const registrar = (req: FastifyRequest): Promise<UserPrincipal> =>
    requireGovernanceRole(services, req, ADMIN_ROLE, DPO_ROLE);

  app.get<{ Querystring: { nhs?: string; all?: string } }>('/admin/objections', async (req) =>
    admin.listObjections(await registrar(req), req.query.nhs ?? '', req.query.all === 'true'),
  );
  app.post('/admin/objections', async (req, reply) => {
    const user = await registrar(req);
    return reply.code(201).send(await admin.addObjection(user, parse(objectionBody, req.body)));
  });
  app.post<{ Params: { id: string } }>('/admin/objections/:id/withdraw', async (req) => {
    const user = await registrar(req);
    const how = parse(withdrawBody, req.body ?? {});
    return admin.withdrawObjection(user, req.params.id, {
      ...(how.requestedOn ? { requestedOn: how.requestedOn } : {}),
      ...(how.requestSource ? { requestSource: how.requestSource } : {}),
    });
  });
  // Overriding is a decision of its own: any signed-in user may ask, the policy checks the role.
  app.post<{ Params: { id: string } }>('/admin/objections/:id/override', async (req, reply) => {
    const user = await requireRegionOrganisation(services, req, await requireUser(services, req));
    const b = parse(overrideBody, req.body);
    return reply.code(201).send(await admin.overrideObjection(user, req.params.id, b));
  });
  app.post<{ Params: { id: string } }>('/admin/overrides/:id/end', async (req) => {
    const user = await requireRegionOrganisation(services, req, await requireUser(services, req));
    if (!services.config.policy.overrideRoles.includes(user.role)) await registrar(req); // refuses with the usual 403 if neither
    return admin.endOverride(user, req.params.id);
  });

  app.get<{ Querystring: { nhs?: string } }>('/admin/opt-out', async (req) =>
    admin.getOptOut(await registrar(req), req.query.nhs ?? ''),
  );
  app.put('/admin/opt-out', async (req) =>
    admin.setOptOut(await registrar(req), parse(optOutBody, req.body)),
  );
}
