/**
 * Reads of the record's items: search by type for a patient, read and vread of one item, the
 * person's objections as Consent, and the region's organisations (what `_include` brings in).
 * Every route hands the user to the gate; none reads the store itself.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SharedcareError } from '../../errors/index.ts';
import { CLINICAL_TYPES, isSearchType, parseSearch, refuse, type Query } from '../../fhir/index.ts';
import { readContextOf, requireUser } from '../auth.ts';
import type { Services } from '../context.ts';
import { etagOf, FHIR_ROUTE, isStrict, notModified, send } from './format.ts';
import { pageLink, personIdParam, UUID } from './params.ts';

const clinicalType = (type: string): string => {
  if (!Object.hasOwn(CLINICAL_TYPES, type))
    throw new SharedcareError('not-found', `${type} is not a resource type this server holds`);
  return type;
};

/** ids are Sharedcare's own (uuids); anything else names nothing here */
function itemId(type: string, id: string): string {
  if (!UUID.test(id)) throw new SharedcareError('not-found', `No ${type} matches`);
  return id.toLowerCase();
}

export function registerItemRoutes(app: FastifyInstance, services: Services): void {
  const { gate } = services;

  /** An item's body with its weak ETag; 304 when the client already holds this version. */
  const sendItem = (req: FastifyRequest, reply: Parameters<typeof send>[0], body: string) => {
    const etag = etagOf(body);
    if (etag) {
      reply.header('etag', etag);
      if (notModified(req, etag)) return reply.code(304).header('cache-control', 'no-store').send();
    }
    const updated = /"lastUpdated"\s*:\s*"([^"]+)"/.exec(body)?.[1];
    if (updated) reply.header('last-modified', new Date(updated).toUTCString());
    return send(reply, body);
  };

  // The person's objections to sharing, as Consent resources: what they objected to, never the data.
  app.get<{ Querystring: Query }>('/fhir/Consent', FHIR_ROUTE, async (req, reply) => {
    const user = await requireUser(services, req);
    const others = Object.keys(req.query).filter((k) => k !== 'patient' && k !== '_format');
    if (others.length && isStrict(req))
      refuse(
        others.map((k) => ({ message: `Consent is searched by patient only, not ${k}`, expression: k })),
      );
    const patient = req.query.patient;
    return send(
      reply,
      await gate.consents(
        readContextOf(req, user),
        personIdParam(typeof patient === 'string' ? patient : undefined, 'patient'),
      ),
    );
  });

  // A region organisation by ODS code (what _include brings in): directory data, not a person's.
  app.get<{ Params: { id: string } }>('/fhir/Organization/:id', FHIR_ROUTE, async (req, reply) => {
    await requireUser(services, req);
    const org = /^[A-Za-z0-9]{1,16}$/.test(req.params.id)
      ? await gate.organisation(req.params.id.toUpperCase())
      : undefined;
    if (!org) throw new SharedcareError('not-found', 'No Organization matches');
    return send(reply, JSON.stringify(org));
  });

  // One item by the id a record open or search returned (a document, say): read, governed, audited.
  app.get<{ Params: { type: string; id: string } }>('/fhir/:type/:id', FHIR_ROUTE, async (req, reply) => {
    const user = await requireUser(services, req);
    const type = clinicalType(req.params.type);
    const body = await gate.readItem(readContextOf(req, user), type, itemId(type, req.params.id));
    return sendItem(req, reply, body);
  });

  // vread: the current version or an earlier one (on the terms of src/gate/versions.ts).
  app.get<{ Params: { type: string; id: string; vid: string } }>(
    '/fhir/:type/:id/_history/:vid',
    FHIR_ROUTE,
    async (req, reply) => {
      const user = await requireUser(services, req);
      const type = clinicalType(req.params.type);
      const version = /^\d{1,9}$/.test(req.params.vid) ? req.params.vid : '';
      if (!version) throw new SharedcareError('not-found', `No ${type} version matches`);
      const body = await gate.readVersion(
        readContextOf(req, user),
        type,
        itemId(type, req.params.id),
        version,
      );
      return sendItem(req, reply, body);
    },
  );

  app.get<{ Params: { type: string }; Querystring: Query }>('/fhir/:type', FHIR_ROUTE, async (req, reply) => {
    const user = await requireUser(services, req);
    const type = clinicalType(req.params.type);
    if (!isSearchType(type)) throw new SharedcareError('not-found', `${type} cannot be searched here`);
    const search = parseSearch(type, req.query, isStrict(req));
    if (search.patient === undefined)
      throw new SharedcareError('invalid-request', 'a search needs the patient', [
        { message: 'give patient={id} (the id a Patient search returned)', expression: 'patient' },
      ]);
    const personId = personIdParam(search.patient, 'patient');
    const names = [...new Set(search.applied.map(([k]) => k))].sort();
    const describe = `${type}?${names.join('&')}`;
    return send(
      reply,
      await gate.searchItems(
        readContextOf(req, user),
        personId,
        { types: [type], ...search, link: pageLink(services.config.publicUrl, req, search.applied) },
        describe,
      ),
    );
  });
}
