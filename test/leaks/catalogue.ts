/**
 * The fixed part of the leak property's world: the region's organisations and their sources, the
 * codes items are drawn from (never-shared ones from config/sensitive-codes.csv plus a region list of
 * organisations and clinics, and ordinary ones, near misses included), security labels, and the
 * resource types with the section each belongs to. Every entry says, as data, whether it may ever
 * be shared: that annotation, not src/policy, is what the oracle believes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

export const SNOMED = 'http://snomed.info/sct';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
/** the UK edition's URI: the same codes (the code-list loader treats it as ICD-10) */
export const ICD10_UK = 'http://hl7.org/fhir/sid/icd-10-uk';
export const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const CLINIC = 'https://northgate.example/clinic';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export interface Org {
  ods: string;
  name: string;
  kind?: string;
  contributes: boolean;
  views: boolean;
  /** its one source system, if it contributes */
  source?: string;
  /** on the never-shared list: everything it sends, and anything naming it, is withheld */
  neverShared?: boolean;
}

export const ORGS: readonly Org[] = [
  {
    ods: 'Y90001',
    name: 'Riverside Surgery',
    kind: 'gp',
    contributes: true,
    views: true,
    source: 'gp-riverside',
  },
  {
    ods: 'Y90002',
    name: 'Hillside Practice',
    kind: 'gp',
    contributes: true,
    views: true,
    source: 'gp-hillside',
  },
  {
    ods: 'RX1',
    name: 'Northgate Hospital',
    kind: 'acute',
    contributes: true,
    views: true,
    source: 'northgate-pas',
  },
  {
    ods: 'RX2',
    name: 'Northgate Community and Mental Health Trust',
    kind: 'community-mental-health',
    contributes: true,
    views: true,
    source: 'rx2-rio',
  },
  {
    ods: 'LA1',
    name: 'Northgate Adult Social Care',
    kind: 'social-care',
    contributes: true,
    views: true,
    source: 'la-care',
  },
  { ods: 'LAB01', name: 'Private Lab', contributes: true, views: false, source: 'private-lab' },
  {
    ods: 'SH001',
    name: 'Eastside Sexual Health Service',
    kind: 'acute',
    contributes: true,
    views: true,
    source: 'eastside-sh',
    neverShared: true,
  },
  { ods: 'HOS1', name: 'St Anne Hospice', contributes: false, views: true },
];
/** a clinic outside the region, on the list: items naming it (a referral to it) are withheld */
export const OUTSIDE_CLINIC = { ods: 'SHX99', name: 'Out-of-area GUM Clinic' };
/** an organisation that is not part of the region at all (readers only) */
export const UNKNOWN_ORG = 'ZZZ99';

export const SOURCES = ORGS.filter((o) => o.source).map((o) => ({ id: o.source!, org: o }));
export const orgOfSource = (id: string): Org => SOURCES.find((s) => s.id === id)!.org;

export interface Code {
  system: string;
  code: string;
  display: string;
  neverShared: boolean;
  /** what the code stands for in a failure message */
  why: string;
}

const HIV_TEST: Code = {
  system: SNOMED,
  code: '31676001',
  display: 'HIV antigen test',
  neverShared: true,
  why: 'region list: HIV test',
};
const GUM_CLINIC: Code = {
  system: CLINIC,
  code: 'GUM1',
  display: 'Genitourinary medicine clinic',
  neverShared: true,
  why: 'region list: local GUM clinic code',
};

/** The region's own list, beside config/sensitive-codes.csv: an organisation, a clinic, a test. */
export function writeRegionCodeList(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-leaks-'));
  const file = path.join(dir, 'region-sensitive.csv');
  writeFileSync(
    file,
    [
      'category,system,code,display,match',
      'sexual_health,ods,SH001,Eastside Sexual Health Service,exact',
      `sexual_health,ods,${OUTSIDE_CLINIC.ods},${OUTSIDE_CLINIC.name},exact`,
      `sexual_health,${GUM_CLINIC.system},${GUM_CLINIC.code},${GUM_CLINIC.display},exact`,
      `hiv_aids,${HIV_TEST.system},${HIV_TEST.code},${HIV_TEST.display},exact`,
    ].join('\n'),
  );
  return file;
}

interface ListRow {
  category: string;
  system: string;
  code: string;
  display: string;
  match: string;
}

const LIST: ListRow[] = parse(
  readFileSync(new URL('../../config/sensitive-codes.csv', import.meta.url), 'utf8'),
  { columns: true, skip_empty_lines: true },
) as ListRow[];

/** The categories of the never-shared lists: a reader must never see one named. */
export const CATEGORIES = [...new Set([...LIST.map((r) => r.category), 'sexual_health'])];

/** Every never-shared code on config/sensitive-codes.csv, as listed. */
export const LISTED: readonly Code[] = [
  ...LIST.map((r) => ({
    system: r.system,
    code: r.code,
    display: r.display,
    neverShared: true,
    why: `${r.category} (${r.system === ICD10 ? 'ICD-10' : 'SNOMED CT'} ${r.code})`,
  })),
  HIV_TEST,
  GUM_CLINIC,
];

/** ICD-10 rows match by prefix: a sub-code, with or without the dot, in either case, is covered. */
export const ICD10_PREFIXES = LIST.filter((r) => r.match === 'prefix').map((r) => r.code);

/**
 * How a source may write a listed ICD-10 code. Each is the same diagnosis; the last uses the UK
 * edition's system URI, which the code-list loader itself treats as ICD-10.
 */
export type IcdSpelling = 'as-listed' | 'sub-code' | 'dotted' | 'lower-case' | 'uk-edition';

export function icdVariant(prefix: string, digit: number, spelling: IcdSpelling): Code {
  const row = LIST.find((r) => r.code === prefix)!;
  const code = {
    'as-listed': prefix,
    'sub-code': `${prefix}${digit}`,
    dotted: `${prefix}.${digit}`,
    'lower-case': `${prefix.toLowerCase()}.${digit}`,
    'uk-edition': `${prefix}.${digit}`,
  }[spelling];
  return {
    system: spelling === 'uk-edition' ? ICD10_UK : ICD10,
    code,
    display: row.display,
    neverShared: true,
    why: `${row.category} (ICD-10 ${code}, ${spelling})`,
  };
}

const ordinary = (system: string, code: string, display: string): Code => ({
  system,
  code,
  display,
  neverShared: false,
  why: 'ordinary',
});

/** Shared with anyone whose role sees the section. Near misses sit just beside listed codes. */
export const ORDINARY: readonly Code[] = [
  ordinary(SNOMED, '38341003', 'Hypertensive disorder'),
  ordinary(SNOMED, '44054006', 'Diabetes mellitus type 2'),
  ordinary(SNOMED, '195967001', 'Asthma'),
  ordinary(SNOMED, '1049301000000100', 'HbA1c level'),
  ordinary(SNOMED, '271649006', 'Systolic blood pressure'),
  ordinary(SNOMED, '386661006', 'Fever'),
  ordinary(ICD10, 'I10', 'Essential (primary) hypertension'),
  ordinary(ICD10, 'E11.9', 'Type 2 diabetes mellitus without complications'),
  ordinary(ICD10, 'B19', 'Unspecified viral hepatitis'), // beside B20
  ordinary(ICD10, 'A49.9', 'Bacterial infection, unspecified'), // beside A50
  ordinary(ICD10, 'O03', 'Spontaneous abortion'), // beside O04
  ordinary(ICD10, 'F63.0', 'Pathological gambling'), // beside F64
  ordinary(CLINIC, 'DIAB1', 'Diabetes clinic'), // the same local system as the GUM clinic
];

export interface Label {
  system: string;
  code: string;
  neverShared: boolean;
}

export const LABELS: readonly Label[] = [
  { system: CONFIDENTIALITY, code: 'R', neverShared: true },
  { system: CONFIDENTIALITY, code: 'V', neverShared: true },
  { system: ACT_CODE, code: 'HIV', neverShared: true },
  { system: ACT_CODE, code: 'STD', neverShared: true },
  { system: ACT_CODE, code: 'SEX', neverShared: true },
  { system: ACT_CODE, code: 'ETH', neverShared: true },
  { system: CONFIDENTIALITY, code: 'N', neverShared: false },
  { system: CONFIDENTIALITY, code: 'L', neverShared: false },
];

/** The record's sections, and what each role may see (docs/access-decisions.md). */
export const SECTIONS = [
  'problems',
  'procedures',
  'medications',
  'allergies',
  'immunisations',
  'results',
  'encounters',
  'appointments',
  'referrals',
  'documents',
  'care-plans',
  'alerts',
] as const;

export type RoleKind = 'clinical' | 'social-care' | 'clerical' | 'dpo' | 'admin';
export const ROLES: Record<string, RoleKind | undefined> = {
  R8000: 'clinical',
  R8001: 'clinical',
  R0260: 'clinical',
  R0243: 'social-care',
  'social-worker': 'social-care',
  R8009: 'clerical',
  R8006: 'clerical',
  'sharedcare-dpo': 'dpo',
  R0001: 'dpo',
  'sharedcare-admin': 'admin',
  R9999: undefined, // a role the region does not know
  'caldicott-guardian': undefined, // may override objections, but is not a role that reads records
};
export const SECTIONS_OF: Record<RoleKind, readonly string[]> = {
  clinical: SECTIONS,
  'social-care': [
    'care-plans',
    'encounters',
    'appointments',
    'allergies',
    'medications',
    'alerts',
    'referrals',
  ],
  clerical: ['appointments'],
  dpo: [],
  admin: [],
};
