/** The Patient routes: search, read, $everything (paged), $summary and $break-glass. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SharedcareError } from '../../errors/index.ts';
import {
  ignoredOutcomeIssues,
  isClinicalType,
  parseCount,
  parseDateValue,
  parseOffset,
  refuse,
  valuesOf,
  type Filter,
  type Query,
} from '../../fhir/index.ts';
import { readContextOf, requireUser } from '../auth.ts';
import type { Services } from '../context.ts';
import { FHIR_JSON, FHIR_ROUTE, isStrict, send } from './format.ts';
import { pageLink, personIdParam } from './params.ts';
import { parsePatientSearch } from './patient-search.ts';

const EVERYTHING_PARAMS = ['_since', '_type', '_count', '_offset', '_format'];

/** $everything's parameters: _since (received since), _type, _count and _offset (paging). */
function parseEverything(query: Query, strict: boolean) {
  const out = {
    types: [] as string[],
    filters: [] as Filter[],
    count: undefined as number | undefined,
    offset: 0,
    ignored: [] as string[],
    applied: [] as [string, string][],
  };
  for (const name of Object.keys(query)) {
    if (!EVERYTHING_PARAMS.includes(name)) {
      if (strict) refuse([{ message: `${name} is not a parameter of $everything here`, expression: name }]);
      out.ignored.push(name);
      continue;
    }
    const values = valuesOf(query, name);
    if (values.length > 1) refuse([{ message: `give ${name} once`, expression: name }]);
    const raw = values[0]!;
    if (name === '_format') continue;
    if (name === '_since') {
      const since = /^\d{4}/.test(raw) ? parseDateValue(`ge${raw}`) : undefined;
      if (!since)
        refuse([{ message: '_since must be an instant (e.g. 2024-01-01T00:00:00Z)', expression: '_since' }]);
      out.filters.push({ name, type: 'date', paths: ['meta.lastUpdated'], values: [since] });
    } else if (name === '_type') {
      const types = raw.split(',');
      const bad = types.filter((t) => !isClinicalType(t));
      if (bad.length)
        refuse([
          { message: `_type names types this server does not hold: ${bad.join(', ')}`, expression: '_type' },
        ]);
      out.types = types;
    } else {
      const n = name === '_count' ? parseCount(raw) : parseOffset(raw);
      if (typeof n !== 'number') refuse([n]);
      if (name === '_count') out.count = n;
      else out.offset = n;
    }
    out.applied.push([name, raw]);
  }
  return out;
}

export function registerPatientRoutes(app: FastifyInstance, services: Services): void {
  const { gate } = services;
  const base = services.config.publicUrl;

  app.get<{ Querystring: Query }>('/fhir/Patient', FHIR_ROUTE, async (req, reply) => {
    const user = await requireUser(services, req);
    const search = parsePatientSearch(req.query, isStrict(req));
    const ctx = readContextOf(req, user);
    const link = pageLink(base, req, search.applied);
    if (search.kind === 'demographics') {
      const names = search.applied.map(([k]) => k).sort();
      return send(
        reply,
        await gate.findPatients(ctx, search.query, `Patient?${names.join('&')}`, search.ignored, link),
      );
    }
    let body: string;
    try {
      body = (await gate.findPatientByNhsNumber(ctx, search.nhsNumber)).toString();
    } catch (err) {
      // A search that finds no one answers an empty searchset (FHIR), not 404.
      if (!(err instanceof SharedcareError && err.code === 'not-found')) throw err;
      body = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] });
    }
    // the self link, and the parameters left out (lenient handling), on the gate's Bundle
    const bundle = JSON.parse(body) as { link?: unknown; entry?: unknown[] };
    bundle.link = [{ relation: 'self', url: link(0) }];
    const issue = ignoredOutcomeIssues(search.ignored);
    if (issue.length)
      bundle.entry = [
        ...(bundle.entry ?? []),
        { resource: { resourceType: 'OperationOutcome', issue }, search: { mode: 'outcome' } },
      ];
    return send(reply, JSON.stringify(bundle));
  });

  app.get<{ Params: { id: string } }>('/fhir/Patient/:id', FHIR_ROUTE, async (req, reply) => {
    const user = await requireUser(services, req);
    const body = JSON.parse(
      (await gate.readPatient(readContextOf(req, user), personIdParam(req.params.id, 'id'))).toString(),
    ) as { entry: { resource: unknown }[] };
    return send(reply, JSON.stringify(body.entry[0]!.resource));
  });

  app.get<{ Params: { id: string }; Querystring: Query }>(
    '/fhir/Patient/:id/$everything',
    FHIR_ROUTE,
    async (req, reply) => {
      const user = await requireUser(services, req);
      const personId = personIdParam(req.params.id, 'id');
      const p = parseEverything(req.query, isStrict(req));
      return send(
        reply,
        await gate.everythingPage(readContextOf(req, user), personId, {
          ...p,
          sort: [],
          include: [],
          link: pageLink(base, req, p.applied),
        }),
      );
    },
  );

  app.get<{ Params: { id: string }; Querystring: Query }>(
    '/fhir/Patient/:id/$summary',
    FHIR_ROUTE,
    async (req, reply) => {
      const user = await requireUser(services, req);
      const unknown = Object.keys(req.query).filter((k) => k !== '_format');
      if (unknown.length && isStrict(req))
        refuse(unknown.map((k) => ({ message: `${k} is not a parameter of $summary here`, expression: k })));
      return send(reply, await gate.summary(readContextOf(req, user), personIdParam(req.params.id, 'id')));
    },
  );
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
