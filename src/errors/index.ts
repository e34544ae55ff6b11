/**
 * One error class with stable codes. Each surface (FHIR API, admin API, HL7 v2, CLI) maps the code
 * in one place: HTTP status + OperationOutcome, problem+json, AE/AR acknowledgement, exit message.
 * Messages never carry patient-identifying data: ids and field paths only.
 */

import type { ZodType } from 'zod';

export const ERROR_CODES = {
  'invalid-request': { status: 400, issue: 'invalid' },
  'invalid-resource': { status: 422, issue: 'invalid' },
  'unsupported-media-type': { status: 415, issue: 'not-supported' },
  unauthenticated: { status: 401, issue: 'login' },
  forbidden: { status: 403, issue: 'forbidden' },
  'not-found': { status: 404, issue: 'not-found' },
  'method-not-allowed': { status: 405, issue: 'not-supported' },
  'not-acceptable': { status: 406, issue: 'not-supported' },
  conflict: { status: 409, issue: 'conflict' },
  'payload-too-large': { status: 413, issue: 'too-long' },
  'too-many-requests': { status: 429, issue: 'throttled' },
  'audit-unavailable': { status: 503, issue: 'transient' },
  /** the database does not answer, or is not the primary any more (a failover): try again */
  unavailable: { status: 503, issue: 'transient' },
  internal: { status: 500, issue: 'exception' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem, located: FHIRPath-like expression such as "Bundle.entry[3].resource.status". */
export interface Problem {
  message: string;
  expression?: string;
}

export class SharedcareError extends Error {
  readonly problems: Problem[];
  constructor(
    readonly code: ErrorCode,
    message: string,
    problems?: Problem[],
  ) {
    super(message);
    this.name = 'SharedcareError';
    this.problems = problems ?? [{ message }];
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isSharedcareError(err: unknown): err is SharedcareError {
  return err instanceof SharedcareError;
}

/**
 * The value, checked by a Zod schema, or a SharedcareError 'invalid-request' titled `title` with one
 * problem per issue (its path, or `root` for the whole value). Configuration files and request
 * bodies are refused the same way.
 */
export function validOrRefuse<T>(schema: ZodType<T>, value: unknown, title: string, root: string): T {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new SharedcareError(
      'invalid-request',
      title,
      r.error.issues.map((i) => ({ message: i.message, expression: i.path.join('.') || root })),
    );
  return r.data;
}
