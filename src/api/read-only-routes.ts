/**
 * The record is read-only: no one creates, changes or deletes data through the FHIR API. Every
 * write method on /fhir/... answers 405 with an OperationOutcome that says so and where data comes
 * from instead, and an Allow header, before any body is parsed and whoever asks (nothing here is
 * writable by anyone, so no token is needed to learn that). POST operations the API does offer
 * (`/fhir/Patient/{id}/$break-glass`) are more specific routes and win over these.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SharedcareError } from '../errors/index.ts';

const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const READ_ONLY_ALLOW = 'GET, HEAD';

export const READ_ONLY_MESSAGE =
  'This shared care record is read-only: no one creates, changes or deletes data here. ' +
  "Corrections are made in the contributing organisation's own system and flow in; " +
  'source systems send data to POST /ingest/fhir.';

export function registerReadOnlyRoutes(app: FastifyInstance): void {
  const refuse = async (_req: unknown, reply: FastifyReply): Promise<void> => {
    reply.header('allow', READ_ONLY_ALLOW);
    throw new SharedcareError('method-not-allowed', READ_ONLY_MESSAGE);
  };
  // onRequest: refused before the body is parsed, so no content type or size gets in the way
  for (const url of ['/fhir', '/fhir/*'])
    app.route({ method: [...WRITES], url, onRequest: refuse, handler: refuse });
}
