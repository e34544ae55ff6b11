/**
 * GET /fhir/Patient/{id}/$reconciled: the combined record with sources reconciled (one entry per
 * thing, every source shown, conflicts shown, a Provenance per item, how current each source is).
 * Through the gate like every read; the raw per-source items stay in the answer and in $everything.
 */
import type { FastifyInstance } from 'fastify';
import { SharedcareError } from '../errors/index.ts';
import { refuse } from '../fhir/index.ts';
import { readContextOf, requireUser } from './auth.ts';
import type { Services } from './context.ts';
import { FHIR_ROUTE, isStrict, send } from './fhir/format.ts';

/** For the CapabilityStatement: Patient's $reconciled operation. */
export const RECONCILED_OPERATION = {
  name: 'reconciled',
  definition: 'https://sharedcare.dev/fhir/OperationDefinition/Patient-reconciled',
  documentation:
    "The record as $everything, with each thing several sources report grouped once (a List per group, every source's item kept), disagreements marked as conflicts, a Provenance per item, and how current each source is in Bundle.meta.",
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Registered inside the FHIR routes' plugin (src/api/fhir/index.ts): gzip, 406 and handling apply. */
export function registerReconciledRoute(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>(
    '/fhir/Patient/:id/$reconciled',
    FHIR_ROUTE,
    async (req, reply) => {
      const user = await requireUser(services, req);
      // no parameters of its own: refused under strict handling, ignored otherwise (as $summary)
      const unknown = Object.keys(req.query ?? {}).filter((k) => k !== '_format');
      if (unknown.length && isStrict(req))
        refuse(unknown.map((k) => ({ message: `${k} is not a parameter of $reconciled`, expression: k })));
      const id = req.params.id;
      if (!UUID.test(id))
        throw new SharedcareError('invalid-request', 'id must be a Patient id', [
          { message: 'id must be a Patient id (as returned by Patient search)', expression: 'id' },
        ]);
      return send(reply, await services.gate.reconciled(readContextOf(req, user), id.toLowerCase()));
    },
  );
}
