/**
 * Administration endpoints (JSON; errors as problem+json; the DPO's are in dpo-routes.ts). The CLI
 * uses these when a server owns the embedded database.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ADMIN_ROLE } from '../access/index.ts';
import { SharedcareError } from '../errors/index.ts';
import type { Services } from './context.ts';
import { requireRole } from './auth.ts';
import { adminService } from '../admin/index.ts';

export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new SharedcareError(
      'invalid-request',
      'invalid request body',
      r.error.issues.map((i) => ({ message: i.message, expression: i.path.join('.') || 'body' })),
    );
  return r.data;
}

export function registerAdminRoutes(app: FastifyInstance, services: Services): void {
  const admin = adminService(services.db);

  app.get('/admin/organisations', async (req) => {
    await requireRole(services, req, ADMIN_ROLE);
    return admin.listOrganisations();
  });
  app.post('/admin/organisations', async (req, reply) => {
    const user = await requireRole(services, req, ADMIN_ROLE);
    return reply.code(201).send(await admin.addOrganisation(user, req.body));
  });
  app.get('/admin/sources', async (req) => {
    await requireRole(services, req, ADMIN_ROLE);
    return admin.listSources();
  });
  app.post('/admin/sources', async (req, reply) => {
    const user = await requireRole(services, req, ADMIN_ROLE);
    return reply.code(201).send(await admin.addSource(user, req.body));
  });
}
