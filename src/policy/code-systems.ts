import { ODS_SYSTEM } from '../fhir/index.ts';

/** Code systems that sensitive-code lists use, by the names published lists call them. */
export const SNOMED = 'http://snomed.info/sct';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
/** An organisation or site (ODS code): every item from it, or naming it, is sensitive. */
export const ODS = ODS_SYSTEM;
export const LOINC = 'http://loinc.org';
export const ATC = 'http://www.whocc.no/atc';
export const BNF = 'https://fhir.nhs.uk/CodeSystem/bnf';
export const READ_V2 = 'http://read.info/readv2';
export const CTV3 = 'http://read.info/ctv3';
export const OPCS4 = 'https://fhir.hl7.org.uk/Id/opcs-4';
/** NHS Data Dictionary treatment function and main specialty codes (a service or clinic's kind) */
export const TREATMENT_FUNCTION =
  'https://fhir.nhs.uk/CodeSystem/NHSDataModelAndDictionary-treatment-function';
export const MAIN_SPECIALTY = 'https://fhir.nhs.uk/CodeSystem/NHSDataModelAndDictionary-main-specialty';

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
  'read v2': READ_V2,
  readv2: READ_V2,
  'read v2 (5 byte)': READ_V2,
  'opcs-4': 'https://fhir.hl7.org.uk/Id/opcs-4',
  opcs4: 'https://fhir.hl7.org.uk/Id/opcs-4',
  'http://www.datadictionary.nhs.uk/opcs-4': 'https://fhir.hl7.org.uk/Id/opcs-4',
  emis: 'https://fhir.hl7.org.uk/Id/emis-code',
  ods: ODS,
  organisation: ODS,
  loinc: LOINC,
  atc: ATC,
  'http://www.whocc.no/atc/': ATC,
  bnf: BNF,
  // dm+d identifiers are SNOMED CT identifiers (the UK drug extension): one list serves both
  'dm+d': SNOMED,
  dmd: SNOMED,
  'https://dmd.nhs.uk': SNOMED,
  'http://dmd.nhs.uk': SNOMED,
  'treatment-function': TREATMENT_FUNCTION,
  'treatment function': TREATMENT_FUNCTION,
  tfc: TREATMENT_FUNCTION,
  'https://fhir.nhs.uk/codesystem/nhsdatamodelanddictionary-treatment-function': TREATMENT_FUNCTION,
  'main-specialty': MAIN_SPECIALTY,
  'main specialty': MAIN_SPECIALTY,
  'https://fhir.nhs.uk/codesystem/nhsdatamodelanddictionary-main-specialty': MAIN_SPECIALTY,
};

/** The systems above by their URI without its scheme, in lower case: how feeds misspell them. */
const BY_URI = new Map(
  [SNOMED, ICD10, ODS, LOINC, ATC, BNF, READ_V2, CTV3, OPCS4, TREATMENT_FUNCTION, MAIN_SPECIALTY].map(
    (uri) => [uri.toLowerCase().replace(/^https?:\/\//, ''), uri],
  ),
);

/** HL7's registered OIDs of the systems above (a CDA-born feed sends `urn:oid:…`). */
const OIDS: Record<string, string> = {
  '2.16.840.1.113883.6.96': SNOMED,
  '2.16.840.1.113883.6.1': LOINC,
  '2.16.840.1.113883.6.3': ICD10,
  '2.16.840.1.113883.6.73': ATC,
  // as NHS messaging names them (the NPfIT MIM's vocabularies)
  '2.16.840.1.113883.2.1.3.2.4.15': SNOMED,
  '2.16.840.1.113883.2.1.6.2': READ_V2,
  '2.16.840.1.113883.6.29': READ_V2,
};

/** A SNOMED CT edition or version URI in place of the system (`http://snomed.info/sct/83821000000107`). */
const SNOMED_EDITION = /^snomed\.info\/sct\/\d+(\/version\/\d+)?$/;

/**
 * The system's URI, from a URI or a name lists use; undefined for a name we do not know. A known
 * system is recognised however a feed spells its URI: `https` for `http`, any case, a trailing
 * slash, an OID, or a SNOMED CT edition URI. Others are kept as sent.
 */
export function canonicalSystem(name: string): string | undefined {
  const trimmed = name.trim();
  const key = trimmed.toLowerCase().replace(/\/+$/, '');
  const alias = ALIASES[key] ?? ALIASES[`${key}/`];
  if (alias) return alias;
  const bare = key.replace(/^https?:\/\//, '');
  const known = BY_URI.get(bare) ?? OIDS[key.replace(/^urn:oid:/, '')];
  if (known) return known;
  if (SNOMED_EDITION.test(bare)) return SNOMED;
  return /^(https?|urn):/i.test(trimmed) ? trimmed : undefined;
}

/**
 * One spelling per code: ICD-10 and OPCS-4 are written with and without the dot (A56.0, A560) and
 * in either case; Read v2 codes carry a two-character term suffix (43C3.11 is 43C3.); ATC and BNF
 * are upper case.
 */
export function canonicalCode(system: string, code: string): string {
  const c = code.trim();
  if (system === ICD10 || system === OPCS4) return c.replace('.', '').toUpperCase();
  if (system === READ_V2 && c.length === 7) return c.slice(0, 5);
  if (system === ATC || system === BNF) return c.toUpperCase();
  return c;
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
  if (system === LOINC) return /^\d{1,7}-\d$/.test(code);
  if (system === ATC) return /^[A-Z](\d{2}([A-Z]([A-Z](\d{2})?)?)?)?$/.test(code);
  if (system === OPCS4) return /^[A-Z]\d{2}\d?$/.test(code);
  if (system === READ_V2 || system === CTV3) return /^[A-Za-z0-9.]{1,5}$/.test(code);
  if (system === TREATMENT_FUNCTION || system === MAIN_SPECIALTY) return /^\d{3}$/.test(code);
  return /^[\x21-\x7e]+$/.test(code);
}
