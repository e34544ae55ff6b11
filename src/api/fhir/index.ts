/**
 * The FHIR read API. Every route hands the user to the gate; none reads the store itself
 * (eslint forbids src/api from importing store, policy or audit). JSON only, gzip, strict or
 * lenient handling of unknown parameters, ETags: see format.ts. What is supported is stated once,
 * in src/fhir/search/definitions.ts, and the CapabilityStatement is built from it.
 */
import type { FastifyInstance } from 'fastify';
import { registerAdmission } from '../admission.ts';
import { capabilityStatement } from '../capability.ts';
import type { Services } from '../context.ts';
import { FHIR_ROUTE, registerCompression, registerFormatCheck, send } from './format.ts';
import { registerItemRoutes } from './item-routes.ts';
import { registerPatientRoutes } from './patient-routes.ts';
import { registerReconciledRoute } from '../reconciled-routes.ts';

export { registerBreakGlassRoute } from './patient-routes.ts';

export function registerFhirRoutes(app: FastifyInstance, services: Services): void {
  registerFormatCheck(app);
  const metadata = JSON.stringify(capabilityStatement(services.config.publicUrl));
  // a plugin of their own, so that compression has loaded before the routes are added
  void app.register(async (fhir) => {
    await registerCompression(fhir);
    // every FHIR read waits its turn here, before anything else runs for it (admission.ts)
    registerAdmission(fhir, undefined, services.metrics.registry);
    fhir.get('/fhir/metadata', FHIR_ROUTE, async (_req, reply) => send(reply, metadata));
    registerPatientRoutes(fhir, services);
    registerItemRoutes(fhir, services);
    registerReconciledRoute(fhir, services);
  });
}
