import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { ERROR_CODES, SharedcareError } from '../errors/index.ts';

export function operationOutcome(
  severity: OperationOutcomeIssue['severity'],
  code: OperationOutcomeIssue['code'],
  text: string,
  expression?: string,
): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [issue(severity, code, text, expression)] };
}

function issue(
  severity: OperationOutcomeIssue['severity'],
  code: OperationOutcomeIssue['code'],
  text: string,
  expression?: string,
): OperationOutcomeIssue {
  return { severity, code, diagnostics: text, ...(expression ? { expression: [expression] } : {}) };
}

/** The single mapping from our error codes to an OperationOutcome. Unknown errors stay generic. */
export function errorToOperationOutcome(err: unknown): { status: number; outcome: OperationOutcome } {
  if (err instanceof SharedcareError) {
    const kind = ERROR_CODES[err.code];
    return {
      status: kind.status,
      outcome: {
        resourceType: 'OperationOutcome',
        issue: err.problems.map((p) => issue('error', kind.issue, p.message, p.expression)),
      },
    };
  }
  return {
    status: 500,
    outcome: operationOutcome('error', 'exception', 'Internal error. It has been logged.'),
  };
}
