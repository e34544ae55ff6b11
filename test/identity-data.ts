/** Patients with full demographics, for the master patient index's tests. */
import type { Resource } from '@medplum/fhirtypes';
import { patient } from './fhir-data.ts';

export interface Demographics {
  given: string;
  family: string;
  birthDate: string;
  gender: 'male' | 'female';
  postcode: string;
  line: string;
  phone: string;
}

export const ROSE: Demographics = {
  given: 'Rosalind',
  family: 'Ackroyd',
  birthDate: '1951-09-23',
  gender: 'female',
  postcode: 'ND4 3PQ',
  line: '7 Hawthorn Fold',
  phone: '01632 960412',
};

/** A source's Patient for these demographics, with an NHS number when given. */
export function patientOf(localId: string, who: Demographics, nhs?: string, extra: object = {}): Resource {
  return patient(localId, nhs, {
    name: [{ use: 'official', family: who.family, given: who.given.split(' ') }],
    gender: who.gender,
    birthDate: who.birthDate,
    address: [{ use: 'home', line: [who.line], postalCode: who.postcode }],
    telecom: [{ system: 'phone', value: who.phone }],
    ...extra,
  });
}

/** A different person each call (n), with no name, date or address in common with ROSE. */
export function someone(n: number): Demographics {
  const given = ['Tobias', 'Imogen', 'Caspar', 'Wilhelmina', 'Barnaby', 'Ottoline'][n % 6]!;
  return {
    given,
    family: `Quennell${String.fromCharCode(97 + (n % 26))}${String.fromCharCode(97 + (Math.floor(n / 26) % 26))}`,
    birthDate: `19${60 + (n % 30)}-0${1 + (n % 9)}-1${n % 10}`,
    gender: n % 2 ? 'male' : 'female',
    postcode: `ND${n % 9} ${n % 10}ZZ`,
    line: `${n + 1} Station Road`,
    phone: `01632 97${String(n).padStart(4, '0')}`,
  };
}
