/**
 * The data protection officer's endpoints: access reports (JSON, CSV, FHIR Bundle of AuditEvents),
 * subject-access reports, alerts and their review, verification and checkpoints of the trail.
 * Only a user whose role is a DPO role (src/access roles: kind 'dpo') may use them; verification
 * and checkpoints also admit administrators. Errors are OperationOutcomes. Every call is audited
 * by the service (src/audit through src/admin).
 *
 * Registering these routes also installs the audit settings (alert rules) in this process and
 * runs the periodic signed checkpoints while the server is up.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { accessKindOf, DEFAULT_ROLES, type UserPrincipal } from '../access/index.ts';
import {
  auditAdmin,
  configureAudit,
  startCheckpoints,
  type ReportFormat,
  type SubjectAccessFormat,
} from '../admin/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { refuseUser, requireRegionOrganisation, requireUser } from './auth.ts';
import type { Services } from './context.ts';

const period = { from: z.string().optional(), to: z.string().optional(), _format: z.string().optional() };
const reportQuery = z
  .object({
    person: z.string().optional(),
    user: z.string().optional(),
    refused: z.enum(['true']).optional(),
    ...period,
  })
  .strict();
const subjectQuery = z.object({ person: z.string(), ...period }).strict();
const alertsQuery = z.object({ status: z.enum(['open', 'reviewed', 'all']).default('open') }).strict();
const reviewBody = z.object({ note: z.string().trim().min(1).max(4000) }).strict();

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success)
    throw new SharedcareError(
      'invalid-request',
      'invalid request',
      r.error.issues.map((i) => ({ message: i.message, expression: i.path.join('.') || 'body' })),
    );
  return r.data;
}

function pick<T extends string>(
  explicit: string | undefined,
  accept: string,
  byType: [string, T][],
  fallback: T,
): T {
  const known = new Set(byType.map(([, f]) => f));
  if (explicit) {
    if (!known.has(explicit as T) && explicit !== fallback)
      throw new SharedcareError(
        'invalid-request',
        `_format must be one of: ${[...known, fallback].join(', ')}`,
        [{ message: 'unknown format', expression: '_format' }],
      );
    return explicit as T;
  }
  return byType.find(([type]) => accept.includes(type))?.[1] ?? fallback;
}

export function registerDpoRoutes(app: FastifyInstance, services: Services): void {
  const { config, db } = services;
  configureAudit(config.audit);
  const dpo = auditAdmin(db, config);
  const roles = { ...DEFAULT_ROLES, ...config.access.roles };

  let stop: (() => void) | undefined;
  app.addHook('onReady', async () => {
    stop = startCheckpoints(db, config.audit, (err) =>
      services.log.error({ err }, 'audit checkpoint failed'),
    );
  });
  app.addHook('onClose', async () => stop?.());

  async function allow(req: FastifyRequest, admins = false): Promise<UserPrincipal> {
    const user = await requireUser(services, req);
    const kind = accessKindOf(user.role, roles);
    if (kind === 'dpo' || (admins && kind === 'admin')) return requireRegionOrganisation(services, req, user);
    throw await refuseUser(
      services,
      req,
      user,
      `this needs a data protection officer's role${admins ? ' or an administrator' : ''}`,
    );
  }
  const actor = (u: UserPrincipal) => ({ userId: u.userId, org: u.org, role: u.role, name: u.name });
  const send = (reply: FastifyReply, r: { contentType: string; body: unknown }) =>
    reply.header('content-type', r.contentType).header('cache-control', 'no-store').send(r.body);

  void app.register(async (scope) => {
    // errors: the server's one handler (src/api/server.ts), which answers /dpo with OperationOutcomes

    scope.get('/dpo/access-report', async (req, reply) => {
      const user = await allow(req);
      const q = parse(reportQuery, req.query);
      const format = pick<ReportFormat>(
        q._format,
        req.headers.accept ?? '',
        [
          ['text/csv', 'csv'],
          ['application/fhir+json', 'fhir'],
        ],
        'json',
      );
      return send(
        reply,
        await dpo.accessReport(actor(user), { ...q, refused: q.refused === 'true' }, format),
      );
    });

    scope.get('/dpo/subject-access-report', async (req, reply) => {
      const user = await allow(req);
      const q = parse(subjectQuery, req.query);
      const format = pick<SubjectAccessFormat>(
        q._format,
        req.headers.accept ?? '',
        [
          ['text/html', 'html'],
          ['text/csv', 'csv'],
          ['text/plain', 'text'],
          ['application/json', 'json'],
        ],
        'html',
      );
      return send(reply, await dpo.subjectAccessReport(actor(user), q, format));
    });

    scope.get('/dpo/alerts', async (req) => {
      const user = await allow(req);
      return dpo.alerts(actor(user), parse(alertsQuery, req.query).status);
    });

    scope.post<{ Params: { id: string } }>('/dpo/alerts/:id/review', async (req) => {
      const user = await allow(req);
      return dpo.reviewAlert(actor(user), req.params.id, parse(reviewBody, req.body).note);
    });

    for (const url of ['/dpo/audit/verify', '/admin/audit/verify'])
      scope.get(url, async (req) => dpo.verify(actor(await allow(req, true))));

    scope.post('/dpo/audit/checkpoint', async (req) => dpo.checkpoint(actor(await allow(req, true))));
  });
}
