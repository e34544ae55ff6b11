/**
 * Identity administration over HTTP (JSON; errors as problem+json): the review queue and splits.
 *   GET  /admin/identity/review               open pairs, side by side
 *   POST /admin/identity/review/:id           { "decision": "link" | "apart" }
 *   POST /admin/identity/split                { "personId", "records": [{ "sourceId", "localId" }] }
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ADMIN_ROLE } from '../access/index.ts';
import { actorOf, identityAdmin } from '../admin/index.ts';
import { itemMover } from '../ingest/index.ts';
import { parse } from './admin-routes.ts';
import { requireGovernanceRole } from './auth.ts';
import type { Services } from './context.ts';

const decisionBody = z.object({ decision: z.enum(['link', 'apart']) }).strict();
const splitBody = z
  .object({
    personId: z.uuid(),
    records: z.array(z.object({ sourceId: z.string().min(1), localId: z.string().min(1) }).strict()).min(1),
  })
  .strict();
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

export function registerIdentityRoutes(app: FastifyInstance, services: Services): void {
  const identity = identityAdmin(services.db, itemMover(services.ingest));
  app.get('/admin/identity/review', async (req) => {
    const user = await requireGovernanceRole(services, req, ADMIN_ROLE);
    return identity.listReview(actorOf(user), parse(listQuery, req.query).limit);
  });
  app.post<{ Params: { id: string } }>('/admin/identity/review/:id', async (req) => {
    const user = await requireGovernanceRole(services, req, ADMIN_ROLE);
    const { decision } = parse(decisionBody, req.body);
    const out = await identity.decideReview(actorOf(user), req.params.id, decision);
    return { id: out.pair.id, decision: out.decision, moved: out.moves.length };
  });
  app.post('/admin/identity/split', async (req) => {
    const user = await requireGovernanceRole(services, req, ADMIN_ROLE);
    const body = parse(splitBody, req.body);
    const out = await identity.split(actorOf(user), body.personId, body.records);
    return { personId: out.newPersonId, moved: out.moves.length };
  });
}
