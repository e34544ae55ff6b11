import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/** The warnings a lenient search carries for the parameters it left out. */
export function ignoredOutcomeIssues(ignored: string[]): OperationOutcomeIssue[] {
  return ignored.map((name) => ({
    severity: 'warning',
    code: 'not-supported',
    diagnostics: `The parameter ${name} is not supported and was ignored (send Prefer: handling=strict to have such a search refused).`,
    expression: [name],
  }));
}
