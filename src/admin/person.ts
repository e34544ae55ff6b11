import type { Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { findPersonByNhsNumber, isValidNhsNumber, normaliseNhsNumber } from '../identity/index.ts';

/** Checks the NHS number (with a message that says what is wrong) and finds the person. */
export function checkedNhsNumber(nhs: string): string {
  const n = normaliseNhsNumber(nhs);
  if (!isValidNhsNumber(n))
    throw new SharedcareError(
      'invalid-request',
      'that is not a valid NHS number (it fails the check digit)',
      [{ message: 'not a valid NHS number', expression: 'nhs' }],
    );
  return n;
}

export async function personByNhs(q: Queryable, nhs: string): Promise<string> {
  const person = await findPersonByNhsNumber(q, checkedNhsNumber(nhs));
  if (!person)
    throw new SharedcareError(
      'not-found',
      'no person with that NHS number has been received from any source',
    );
  return person.id;
}
