import type { FastifyInstance } from 'fastify';
import type { BundleEntry } from '@medplum/fhirtypes';
import { SharedcareError } from '../errors/index.ts';
import { authoriseSource, ingestFhir, type EntryResult } from '../ingest/index.ts';
import { requireSource } from './auth.ts';
import type { Services } from './context.ts';

const ACCEPTED = [
  'application/fhir+json',
  'application/json',
  'application/fhir+ndjson',
  'application/x-ndjson',
  'application/ndjson',
];

const STATUS: Record<EntryResult['action'], string> = {
  created: '201 Created',
  updated: '200 OK',
  unchanged: '200 OK',
  stale: '200 OK',
  deleted: '204 No Content',
  'not-found': '404 Not Found',
  linked: '200 OK',
  ignored: '200 OK',
};

/** HL7 v2 in ER7 form over HTTP; the answer is the ACK in ER7, refused messages included. */
const HL7_TYPES = ['application/hl7-v2', 'x-application/hl7-v2+er7', 'application/hl7-v2+er7'];

function registerHl7Route(app: FastifyInstance, services: Services): void {
  // kept as bytes: the message's own MSH-18 says how to decode it
  app.addContentTypeParser(HL7_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/ingest/hl7v2', async (req, reply) => {
    const principal = await requireSource(services, req);
    const source = await authoriseSource(services.db, principal.sourceId, 'hl7v2');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (![...HL7_TYPES, 'text/plain'].includes(type))
      throw new SharedcareError(
        'unsupported-media-type',
        `send ${[...HL7_TYPES, 'text/plain'].join(' or ')} (got ${type || 'no content type'})`,
      );
    const body = req.body as Buffer | string | undefined;
    if (!body || body.length === 0)
      throw new SharedcareError('invalid-request', 'the body is empty: send one HL7 v2 message');
    const outcome = await services.hl7.receive(body, source);
    req.log.info(
      { source: source.id, ack: outcome.code, duplicate: outcome.duplicate ?? false },
      'HL7 v2 message',
    );
    return reply.header('content-type', 'x-application/hl7-v2+er7; charset=utf-8').send(outcome.ack);
  });
}

export function registerIngestRoutes(app: FastifyInstance, services: Services): void {
  registerHl7Route(app, services);
  app.post('/ingest/fhir', async (req, reply) => {
    const principal = await requireSource(services, req);
    const source = await authoriseSource(services.db, principal.sourceId, 'fhir');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!ACCEPTED.includes(type)) {
      throw new SharedcareError(
        'unsupported-media-type',
        `send ${ACCEPTED.join(' or ')} (got ${type || 'no content type'})`,
      );
    }
    const body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body ?? null);
    const result = await ingestFhir(services.ingest, source, req.headers['content-type'], body);
    for (const [action, n] of Object.entries(result.counts))
      services.metrics.ingested.inc({ source: source.id, action }, n);
    req.log.info({ source: source.id, counts: result.counts }, 'ingested');
    const entry: BundleEntry[] = result.entries.map((e) => ({
      response: {
        status: STATUS[e.action],
        ...(e.id
          ? { location: `${e.resourceType}/${e.id}${e.version ? `/_history/${e.version}` : ''}` }
          : {}),
        outcome: {
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'information',
              code: 'informational',
              diagnostics: `${e.at}: ${e.action}${e.note ? ` (${e.note})` : ''}`,
            },
          ],
        },
      },
    }));
    return reply.header('content-type', 'application/fhir+json; charset=utf-8').send({
      resourceType: 'Bundle',
      type: 'batch-response',
      entry,
      meta: { tag: Object.entries(result.counts).map(([code, n]) => ({ code, display: String(n) })) },
    });
  });
}
