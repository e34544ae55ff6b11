import { ODS_SYSTEM } from '../fhir/index.ts';

/** Code systems that sensitive-code lists use, by the names published lists call them. */
export const SNOMED = 'http://snomed.info/sct';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
/** An organisation or site (ODS code): every item from it, or naming it, is sensitive. */
export const ODS = ODS_SYSTEM;

const ALIASES: Record<string, string> = {
  'snomed ct': SNOMED,
  snomed: SNOMED,
  sct: SNOMED,
  'icd-10': ICD10,
  icd10: ICD10,
  'http://hl7.org/fhir/sid/icd-10-uk': ICD10,
  ctv3: 'http://read.info/ctv3',
  'ctv3 (read v3)': 'http://read.info/ctv3',
  'read v3': 'http://read.info/ctv3',
  'emis local codes': 'https://fhir.hl7.org.uk/Id/emis-code',
  'read v2': 'http://read.info/readv2',
  readv2: 'http://read.info/readv2',
  'opcs-4': 'https://fhir.hl7.org.uk/Id/opcs-4',
  opcs4: 'https://fhir.hl7.org.uk/Id/opcs-4',
  'http://www.datadictionary.nhs.uk/opcs-4': 'https://fhir.hl7.org.uk/Id/opcs-4',
  emis: 'https://fhir.hl7.org.uk/Id/emis-code',
  ods: ODS,
  organisation: ODS,
};

/** The system's URI, from a URI or a name lists use; undefined for a name we do not know. */
export function canonicalSystem(name: string): string | undefined {
  const key = name.trim().toLowerCase();
  if (ALIASES[key]) return ALIASES[key];
  return /^(https?|urn):/.test(name.trim()) ? name.trim() : undefined;
}

/** ICD-10 is written both with and without the dot (A56.0, A560); compare without. */
export function canonicalCode(system: string, code: string): string {
  const c = code.trim();
  return system === ICD10 ? c.replace('.', '').toUpperCase() : c;
}

// Verhoeff check-digit tables: SNOMED CT identifiers end in a Verhoeff check digit, which catches
// the codes that spreadsheets mangled ("1.03E+15" → 1030000000000000). No npm package for this.
const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

export function isValidSctId(code: string): boolean {
  if (!/^[1-9]\d{5,17}$/.test(code)) return false;
  let c = 0;
  const digits = code.split('').reverse().map(Number);
  for (let i = 0; i < digits.length; i++) c = D[c]![P[i % 8]![digits[i]!]!]!;
  return c === 0;
}

/** Whether a code is well formed for its system; unknown systems accept any non-blank code. */
export function isWellFormedCode(system: string, code: string): boolean {
  if (!code || /\s/.test(code) || /E\+\d+$/i.test(code)) return false;
  if (system === SNOMED) return isValidSctId(code);
  if (system === ICD10) return /^[A-Z]\d{2}[0-9A-Z]{0,3}$/.test(code);
  if (system === ODS) return /^[A-Z0-9]{3,10}$/.test(code);
  return /^[\x21-\x7e]+$/.test(code);
}
