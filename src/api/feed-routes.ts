/**
 * Feeds for administrators: health per source (`/admin/feeds`), the dead-letter list
 * (`/admin/dead-letters`), and replay of landed HL7 v2 messages after a mapping or
 * configuration fix (`POST /admin/hl7v2/replay`; the CLI's `sharedcare replay` uses it when the
 * server owns the embedded database).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ADMIN_ROLE } from '../access/index.ts';
import { deadLetters, feedHealth } from '../ingest/index.ts';
import { parse } from './admin-routes.ts';
import { requireRole } from './auth.ts';
import type { Services } from './context.ts';

const replayInput = z
  .object({
    source: z.string().min(1).max(64).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    deadLettersOnly: z.boolean().optional(),
  })
  .strict();

const deadLetterQuery = z
  .object({
    source: z.string().min(1).max(64).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

export function registerFeedRoutes(app: FastifyInstance, services: Services): void {
  app.get('/admin/feeds', async (req) => {
    await requireRole(services, req, ADMIN_ROLE);
    return { feeds: await feedHealth(services.db, new Date()) };
  });
  app.get('/admin/dead-letters', async (req) => {
    await requireRole(services, req, ADMIN_ROLE);
    const q = parse(deadLetterQuery, req.query);
    return {
      deadLetters: await deadLetters(services.db, {
        ...(q.source ? { sourceId: q.source } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      }),
    };
  });
  app.post('/admin/hl7v2/replay', async (req) => {
    const user = await requireRole(services, req, ADMIN_ROLE);
    const input = parse(replayInput, req.body ?? {});
    req.log.info({ by: user.userId, source: input.source ?? 'all' }, 'HL7 v2 replay');
    return services.hl7.replay({
      ...(input.source ? { sourceId: input.source } : {}),
      ...(input.since ? { since: input.since } : {}),
      ...(input.deadLettersOnly ? { deadOnly: true } : {}),
    });
  });
}
