/**
 * `POST /admin/retention/run {"dryRun": true, "asOf": "2030-01-31"}`: the retention run (see
 * src/retention) for administrators, and for the CLI while a server holds the embedded database.
 * Answers the run's report; the periods are this server's configuration.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ADMIN_ROLE } from '../access/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { retentionRun } from '../admin/index.ts';
import { requireRole } from './auth.ts';
import type { Services } from './context.ts';

const body = z
  .object({
    dryRun: z.boolean({ error: 'dryRun is true or false' }),
    asOf: z.string({ error: 'asOf is a date (YYYY-MM-DD)' }).optional(),
  })
  .strict();

export function registerRetentionRoutes(app: FastifyInstance, services: Services): void {
  app.post('/admin/retention/run', async (req) => {
    const user = await requireRole(services, req, ADMIN_ROLE);
    const parsed = body.safeParse(req.body ?? {});
    if (!parsed.success)
      throw new SharedcareError(
        'invalid-request',
        'invalid request body: send {"dryRun": true|false, "asOf"?: "YYYY-MM-DD"}',
        parsed.error.issues.map((i) => ({ message: i.message, expression: i.path.join('.') || 'body' })),
      );
    // removal needs the owner's rights on the audit trail's old segments: maintenance runs as owner
    return retentionRun(services.ownerDb, services.config, user, parsed.data);
  });
}
