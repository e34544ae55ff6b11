// Run by `npm install` (the prepare script): compiles the FHIR JSON Schema validators once, so
// that the server and CLI start in milliseconds instead of compiling them on first use.
import { loadSchemaValidators } from '../src/fhir/index.ts';

const started = performance.now();
loadSchemaValidators();
console.log(`FHIR R4 schema validators ready (${Math.round(performance.now() - started)} ms).`);
