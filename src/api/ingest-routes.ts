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

export function registerIngestRoutes(app: FastifyInstance, services: Services): void {
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
