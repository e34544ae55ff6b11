/** The FHIR read API lives in ./fhir/ (one file per concern); this is its entry for server.ts. */
export { registerBreakGlassRoute, registerFhirRoutes } from './fhir/index.ts';
