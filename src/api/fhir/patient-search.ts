/**
 * Patient search parameters: by NHS number (identifier), or in the shapes of IHE PDQm: family name
 * (and given name) with birth date, or birth date with postcode. A search by name alone or by
 * postcode alone is refused: it would list strangers' records to browse (and the gate shows only
 * people the caller may see anyway).
 */
import { SharedcareError } from '../../errors/index.ts';
import { refuse, valuesOf, type Query } from '../../fhir/index.ts';
import type { DemographicQuery } from '../../identity/index.ts';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from '../../identity/index.ts';

export const PATIENT_PARAMS = ['identifier', 'family', 'given', 'birthdate', 'address-postalcode'] as const;

export type PatientSearch =
  | { kind: 'nhs-number'; nhsNumber: string; ignored: string[]; applied: [string, string][] }
  | { kind: 'demographics'; query: DemographicQuery; ignored: string[]; applied: [string, string][] };

function nhsNumberOf(identifier: string): string {
  const [system, value] = identifier.includes('|') ? identifier.split('|', 2) : ['', identifier];
  if (system !== NHS_NUMBER_SYSTEM || !value)
    throw new SharedcareError('invalid-request', 'search for a person by NHS number', [
      { message: `use identifier=${NHS_NUMBER_SYSTEM}|NNNNNNNNNN`, expression: 'identifier' },
    ]);
  const nhs = normaliseNhsNumber(value);
  if (!isValidNhsNumber(nhs))
    throw new SharedcareError(
      'invalid-request',
      'that is not a valid NHS number (it fails the check digit)',
      [{ message: 'not a valid NHS number', expression: 'identifier' }],
    );
  return nhs;
}

const SHAPES =
  'search by identifier (NHS number), by family (and given) with birthdate, or by birthdate with address-postalcode';

export function parsePatientSearch(query: Query, strict: boolean): PatientSearch {
  const given: Record<string, string> = {};
  const ignored: string[] = [];
  const applied: [string, string][] = [];
  for (const name of Object.keys(query)) {
    if (name === '_format') continue;
    const values = valuesOf(query, name);
    if (!(PATIENT_PARAMS as readonly string[]).includes(name)) {
      if (name.includes(':') && (PATIENT_PARAMS as readonly string[]).includes(name.split(':')[0]!))
        refuse([{ message: `the modifier :${name.split(':')[1]} is not supported`, expression: name }]);
      if (strict)
        refuse([
          {
            message: `${name} is not a Patient search parameter here (see /fhir/metadata)`,
            expression: name,
          },
        ]);
      ignored.push(name);
      continue;
    }
    if (values.length > 1) refuse([{ message: `give ${name} once`, expression: name }]);
    given[name] = values[0]!;
    applied.push([name, values[0]!]);
  }
  if (given.identifier !== undefined) {
    if (Object.keys(given).length > 1)
      refuse([
        { message: 'search by identifier alone (an NHS number names one person)', expression: 'identifier' },
      ]);
    return { kind: 'nhs-number', nhsNumber: nhsNumberOf(given.identifier), ignored, applied };
  }
  const birthdate = given.birthdate?.replace(/^eq/, '');
  if (birthdate === undefined || (given.family === undefined && given['address-postalcode'] === undefined))
    refuse([{ message: SHAPES, expression: 'Patient' }]);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(birthdate) || Number.isNaN(Date.parse(birthdate)))
    refuse([{ message: 'birthdate must be a full date (YYYY-MM-DD)', expression: 'birthdate' }]);
  if (given.given !== undefined && given.family === undefined)
    refuse([{ message: 'given needs family (and birthdate)', expression: 'given' }]);
  for (const name of ['family', 'given', 'address-postalcode'] as const)
    if (given[name] !== undefined && !/[A-Za-z0-9]/.test(given[name]!))
      refuse([{ message: `${name} needs letters or digits`, expression: name }]);
  return {
    kind: 'demographics',
    query: {
      birthDate: birthdate,
      ...(given.family !== undefined ? { family: given.family } : {}),
      ...(given.given !== undefined ? { given: given.given } : {}),
      ...(given['address-postalcode'] !== undefined ? { postcode: given['address-postalcode'] } : {}),
    },
    ignored,
    applied,
  };
}
