/**
 * The never-shared lists and the information-governance review queue (administrators):
 *   GET  /admin/sensitivity/review[?status=pending|confirmed|released|all]  what the text screen flagged, and why
 *   POST /admin/sensitivity/review/{itemId}  {"decision": "confirm"|"release", "by"?, "org"?}
 *   GET  /admin/code-lists · GET /admin/code-lists/{name}/codes
 *   POST /admin/code-lists  {"name", "version"?, "date"?, "sourceFile"?, "codes": [{category, system, code, match}]}
 *   DELETE /admin/code-lists/{name}
 * The CLI (`sharedcare codes …`, `sharedcare sensitivity review …`) uses these when a server owns
 * the embedded database.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ADMIN_ROLE } from '../access/index.ts';
import { actorOf } from '../admin/index.ts';
import { parse } from './admin-routes.ts';
import { requireGovernanceRole, requireRole } from './auth.ts';
import type { Services } from './context.ts';

const decisionBody = z.object({
  decision: z.enum(['confirm', 'release'], { error: 'decision is confirm or release' }),
  by: z.string().min(1).max(200).optional(),
  org: z.string().min(1).max(20).optional(),
});
const statusQuery = z.object({
  status: z.enum(['pending', 'confirmed', 'released', 'all']).default('pending'),
});
const listBody = z.object({
  name: z.string().min(1).max(200),
  version: z.string().max(100).optional(),
  date: z.string().max(40).optional(),
  sourceFile: z.string().max(1000).optional(),
  codes: z
    .array(
      z.object({
        category: z.string().min(1).max(100),
        system: z.string().min(1).max(300),
        code: z.string().min(1).max(40),
        match: z.enum(['exact', 'prefix', 'context']).default('exact'),
      }),
    )
    .max(500_000),
});
const uuid = z.object({ itemId: z.uuid('not an item id') });

export function registerSensitivityRoutes(app: FastifyInstance, services: Services): void {
  const svc = services.sensitivity;

  app.get('/admin/sensitivity/review', async (req) => {
    const user = await requireGovernanceRole(services, req, ADMIN_ROLE);
    return svc.listReviews(actorOf(user), parse(statusQuery, req.query).status);
  });
  app.post('/admin/sensitivity/review/:itemId', async (req) => {
    const user = await requireGovernanceRole(services, req, ADMIN_ROLE);
    const { itemId } = parse(uuid, req.params);
    const body = parse(decisionBody, req.body);
    return svc.decide(actorOf(user), itemId, body.decision, { by: body.by, org: body.org });
  });
  app.get('/admin/code-lists', async (req) => {
    await requireRole(services, req, ADMIN_ROLE);
    return svc.listCodeLists();
  });
  app.get('/admin/code-lists/:name/codes', async (req) => {
    await requireRole(services, req, ADMIN_ROLE);
    return svc.codesOfList((req.params as { name: string }).name);
  });
  app.post('/admin/code-lists', async (req, reply) => {
    const user = await requireRole(services, req, ADMIN_ROLE);
    const body = parse(listBody, req.body);
    return reply.code(201).send(await svc.importCodeList(actorOf(user), body));
  });
  app.delete('/admin/code-lists/:name', async (req) => {
    const user = await requireRole(services, req, ADMIN_ROLE);
    return svc.removeCodeList(actorOf(user), (req.params as { name: string }).name);
  });
}
