/**
 * The FHIR read API. Every route hands the user to the gate; none reads the store itself
 * (eslint forbids src/api from importing store, policy or audit).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { SharedcareError } from '../errors/index.ts';
import { CLINICAL_TYPES, toInstant } from '../fhir/index.ts';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from '../identity/index.ts';
import { readContextOf, requireUser } from './auth.ts';
import { capabilityStatement } from './capability.ts';
import type { Services } from './context.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function send(reply: FastifyReply, body: string | Buffer): FastifyReply {
  return reply.header('content-type', FHIR_JSON).header('cache-control', 'no-store').send(body);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function personIdParam(value: string | undefined, name: string): string {
  const id = (value ?? '').replace(/^Patient\//, '');
  if (!UUID.test(id))
    throw new SharedcareError('invalid-request', `${name} must be a Patient id`, [
      { message: `${name} must be a Patient id (as returned by Patient search)`, expression: name },
    ]);
  return id;
}

const searchQuery = z
  .object({
    patient: z.string().optional(),
    subject: z.string().optional(),
    date: z.union([z.string(), z.array(z.string())]).optional(),
    status: z.string().optional(),
    code: z.string().optional(),
    _format: z.string().optional(),
  })
  .strict();

/** FHIR date search prefixes (ge, le, gt, lt, eq) to inclusive bounds. */
function dateBounds(values: string[]): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  for (const v of values) {
    const m = /^(ge|le|gt|lt|eq)?(\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$/.exec(v);
    const instant = m ? toInstant(m[2]!) : undefined;
    if (!m || !instant)
      throw new SharedcareError(
        'invalid-request',
        'date must be a FHIR date with an optional ge/le/gt/lt/eq prefix',
        [{ message: `date "${v}" is not a FHIR date search value`, expression: 'date' }],
      );
    const prefix = m[1] ?? 'eq';
    if (prefix === 'ge' || prefix === 'gt' || prefix === 'eq') out.from = instant;
    if (prefix === 'le' || prefix === 'lt') out.to = instant;
    if (prefix === 'eq') out.to = new Date(new Date(instant).getTime() + 86_400_000 - 1).toISOString();
  }
  return out;
}

export function registerFhirRoutes(app: FastifyInstance, services: Services): void {
  const { gate } = services;

  app.get('/fhir/metadata', async (_req, reply) => send(reply, JSON.stringify(capabilityStatement())));

  app.get<{ Querystring: Record<string, string> }>('/fhir/Patient', async (req, reply) => {
    const user = await requireUser(services, req);
    const identifier = req.query.identifier ?? '';
    const [system, value] = identifier.includes('|') ? identifier.split('|', 2) : ['', identifier];
    if (system !== NHS_NUMBER_SYSTEM || !value) {
      throw new SharedcareError('invalid-request', 'search for a person by NHS number', [
        { message: `use identifier=${NHS_NUMBER_SYSTEM}|NNNNNNNNNN`, expression: 'identifier' },
      ]);
    }
    const nhs = normaliseNhsNumber(value);
    if (!isValidNhsNumber(nhs))
      throw new SharedcareError(
        'invalid-request',
        'that is not a valid NHS number (it fails the check digit)',
        [{ message: 'not a valid NHS number', expression: 'identifier' }],
      );
    try {
      return send(reply, await gate.findPatientByNhsNumber(readContextOf(req, user), nhs));
    } catch (err) {
      // A search that finds no one answers an empty searchset (FHIR), not 404.
      if (err instanceof SharedcareError && err.code === 'not-found') {
        return send(
          reply,
          JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] }),
        );
      }
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/fhir/Patient/:id', async (req, reply) => {
    const user = await requireUser(services, req);
    const body = JSON.parse(
      (await gate.readPatient(readContextOf(req, user), personIdParam(req.params.id, 'id'))).toString(),
    ) as {
      entry: { resource: unknown }[];
    };
    return send(reply, JSON.stringify(body.entry[0]!.resource));
  });

  app.get<{ Params: { id: string } }>('/fhir/Patient/:id/$everything', async (req, reply) => {
    const user = await requireUser(services, req);
    return send(reply, await gate.everything(readContextOf(req, user), personIdParam(req.params.id, 'id')));
  });

  // The person's objections to sharing, as Consent resources: what they objected to, never the data.
  app.get<{ Querystring: { patient?: string } }>('/fhir/Consent', async (req, reply) => {
    const user = await requireUser(services, req);
    return send(
      reply,
      await gate.consents(readContextOf(req, user), personIdParam(req.query.patient, 'patient')),
    );
  });

  const clinicalType = (type: string): string => {
    if (!Object.hasOwn(CLINICAL_TYPES, type))
      throw new SharedcareError('not-found', `${type} is not a resource type this server holds`);
    return type;
  };

  // One item by the id a record open or search returned (a document, say): read, governed, audited.
  app.get<{ Params: { type: string; id: string } }>('/fhir/:type/:id', async (req, reply) => {
    const user = await requireUser(services, req);
    const type = clinicalType(req.params.type);
    // ids are Sharedcare's own (uuids); anything else names nothing here
    if (!UUID.test(req.params.id)) throw new SharedcareError('not-found', `No ${type} matches`);
    return send(reply, await gate.readItem(readContextOf(req, user), type, req.params.id.toLowerCase()));
  });

  app.get<{ Params: { type: string }; Querystring: unknown }>('/fhir/:type', async (req, reply) => {
    const user = await requireUser(services, req);
    const type = clinicalType(req.params.type);
    const parsed = searchQuery.safeParse(req.query);
    if (!parsed.success) {
      throw new SharedcareError(
        'invalid-request',
        'unsupported search parameters',
        parsed.error.issues.map((i) => ({ message: i.message, expression: i.path.join('.') || 'query' })),
      );
    }
    const q = parsed.data;
    const personId = personIdParam(q.patient ?? q.subject, 'patient');
    const bounds = dateBounds(q.date === undefined ? [] : Array.isArray(q.date) ? q.date : [q.date]);
    const query = {
      types: [type],
      ...bounds,
      ...(q.status ? { status: q.status.split(',') } : {}),
      ...(q.code ? { codes: q.code.split(',') } : {}),
    };
    const describe = `${type}?${Object.keys(q).sort().join('&')}`;
    return send(reply, await gate.search(readContextOf(req, user), personId, query, describe));
  });
}

const breakGlassBody = z.object({ reason: z.string(), note: z.string().max(2000).optional() });

/** POST /fhir/Patient/{id}/$break-glass: JSON {reason, note} or FHIR Parameters with the same names. */
export function registerBreakGlassRoute(app: FastifyInstance, services: Services): void {
  app.post<{ Params: { id: string } }>('/fhir/Patient/:id/$break-glass', async (req, reply) => {
    const user = await requireUser(services, req);
    const raw = req.body as
      | { resourceType?: string; parameter?: { name: string; valueString?: string; valueCode?: string }[] }
      | undefined;
    const input =
      raw?.resourceType === 'Parameters'
        ? Object.fromEntries((raw.parameter ?? []).map((p) => [p.name, p.valueCode ?? p.valueString]))
        : raw;
    const parsed = breakGlassBody.safeParse(input);
    if (!parsed.success) {
      throw new SharedcareError(
        'invalid-request',
        'give a reason (and optionally a note)',
        parsed.error.issues.map((i) => ({ message: i.message, expression: i.path.join('.') || 'reason' })),
      );
    }
    const grant = await services.gate.breakGlass(
      readContextOf(req, user),
      personIdParam(req.params.id, 'id'),
      parsed.data.reason,
      parsed.data.note,
    );
    return reply.header('content-type', FHIR_JSON).send({
      resourceType: 'Parameters',
      parameter: [
        { name: 'reason', valueCode: grant.reason },
        { name: 'expires', valueInstant: grant.expiresAt },
      ],
    });
  });
}
