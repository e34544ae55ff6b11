/**
 * Adversarial cases for the never-shared rule (issue 12), written independently of the code under
 * test: sensitive codes come from the published lists in ../shared/fixtures/sensitive-codes and from
 * the public facts written out below (never from config/sensitive/ or src/policy); look-alikes are
 * ordinary items that share words, codes' neighbourhoods or medicines with sensitive ones and must
 * still be shown. Each case is one FHIR resource of one item kind, with the concept placed where that
 * kind carries it (a medicine by name or by its reason; an encounter by service, specialty or type;
 * a letter by type, author service or content).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';

export const SCT = 'http://snomed.info/sct';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const ATC = 'http://www.whocc.no/atc';
const READ_V2 = 'http://read.info/readv2';
const CTV3 = 'http://read.info/ctv3';
const OPCS4 = 'https://fhir.hl7.org.uk/Id/opcs-4';
const TFC = 'https://fhir.nhs.uk/CodeSystem/NHSDataModelAndDictionary-treatment-function';
const DMD = 'https://dmd.nhs.uk';

export const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/sensitive-codes');
export const fixturesPresent = existsSync(FIXTURES);

export interface Concept {
  system?: string;
  code?: string;
  /** the words a feed sends with the code (display), or the only words (text) */
  words?: string;
  /** "code", "text" (no code at all) or "medicine" */
  shape: 'code' | 'text' | 'medicine';
  source: string;
}

export interface Case {
  kind: string;
  concept: Concept;
  /** true: must be withheld; false: a look-alike that must be shown */
  sensitive: boolean;
  resource: Record<string, unknown>;
}

const code = (system: string, c: string, words: string, source = 'public fact'): Concept => ({
  system,
  code: c,
  words,
  shape: 'code',
  source,
});
const text = (words: string): Concept => ({ words, shape: 'text', source: 'public fact (free text)' });
const medicine = (words: string, atc?: string): Concept => ({
  system: atc ? ATC : DMD,
  // a dm+d-shaped product code on no list: the medicine's name must give it away
  code: atc ?? '39000000000000',
  words,
  shape: 'medicine',
  source: atc ? 'ATC (WHO)' : 'dm+d product named in the feed',
});

/** Public facts: codes from the coding systems' own published definitions, and clinical wording. */
export const HAND_WRITTEN: readonly Concept[] = [
  // LOINC tests for HIV, syphilis, chlamydia, gonorrhoea and other STIs
  code(LOINC, '20447-9', 'HIV 1 RNA viral load'),
  code(LOINC, '7917-8', 'HIV 1 Ab'),
  code(LOINC, '56888-1', 'HIV 1+2 Ab + HIV1 p24 Ag'),
  code(LOINC, '20507-0', 'Reagin Ab by RPR'),
  code(LOINC, '21613-5', 'Chlamydia trachomatis DNA'),
  code(LOINC, '24111-7', 'Neisseria gonorrhoeae DNA'),
  code(LOINC, '69933-0', 'Mycoplasma genitalium DNA'),
  // ICD-10
  code(ICD10, 'B20.0', 'HIV disease resulting in mycobacterial infection'),
  code(ICD10, 'Z21', 'Asymptomatic HIV infection status'),
  code(ICD10, 'A54.0', 'Gonococcal infection of lower genitourinary tract'),
  code(ICD10, 'A56.0', 'Chlamydial infection of lower genitourinary tract'),
  code(ICD10, 'O04.9', 'Medical abortion'),
  code(ICD10, 'F64.0', 'Transsexualism'),
  code(ICD10, 'Z31.2', 'In vitro fertilization'),
  // SNOMED CT
  code(SCT, '86406008', 'Human immunodeficiency virus infection'),
  code(SCT, '62479008', 'AIDS'),
  code(SCT, '76272004', 'Syphilis'),
  code(SCT, '714812005', 'Induced termination of pregnancy'),
  code(SCT, '52637005', 'In vitro fertilisation'),
  code(SCT, '407374003', 'Transsexual'),
  // Read v2 and CTV3 (GP history)
  code(READ_V2, 'A788.', 'HIV disease'),
  code(READ_V2, '43C3.', 'HIV positive'),
  code(CTV3, 'A788.', '(AIDS) or (HIV infection)'),
  code(CTV3, '43C3.', 'HIV positive'),
  // OPCS-4 procedures: assisted conception, termination
  code(OPCS4, 'Q13.1', 'Introduction of gametes into uterine cavity'),
  code(OPCS4, 'Q14.1', 'Introduction of abortifacient into uterine cavity'),
  code(OPCS4, 'Q48.1', 'Oocyte recovery'),
  // NHS treatment function codes (services)
  code(TFC, '360', 'Genitourinary Medicine Service'),
  code(TFC, '504', 'Community Sexual and Reproductive Health Service'),
  // medicines: antiretrovirals (incl. PrEP), fertility medicines
  medicine('Biktarvy 50mg/200mg/25mg tablets', 'J05AR20'),
  medicine('Truvada 200mg/245mg tablets', 'J05AR03'),
  medicine('Dolutegravir 50mg tablets', 'J05AX12'),
  medicine('Gonal-f follitropin alfa injection', 'G03GA05'),
  medicine('Ganirelix 250micrograms/0.5ml injection', 'H01CC01'),
  medicine('Descovy 200mg/25mg tablets'),
  medicine('Dovato 50mg/300mg tablets'),
  medicine('Triumeq tablets'),
  // free text only: abbreviations, misspellings, categories
  text('HIV positive'),
  text('Known HIV, on ART'),
  text('Started PrEP'),
  text('STI screen today'),
  text('Gonorhoea treated'),
  text('Syphillis serology positive'),
  text('Chlamidia positive, partner notification done'),
  text('Referred to GUM clinic'),
  text('Seen at the sexual health clinic'),
  text('IVF cycle 2 at the fertility clinic'),
  text('IUI planned next month'),
  text('Intrauterine insemination'),
  text('Attended gender identity clinic'),
  text('Gender dysphoria'),
  text('Surgical termination of pregnancy at 10 weeks'),
  text('TOP booked with BPAS'),
  text('Letter from the pregnancy advisory service'),
];

/** Look-alikes: ordinary, and must be shown. */
export const LOOK_ALIKES: readonly Concept[] = [
  code(LOINC, '16128-1', 'Hepatitis C virus Ab'),
  text('Hepatitis C antibody test'),
  text('Antenatal booking'),
  code(SCT, '424441002', 'Prenatal initial visit'),
  medicine('Aciclovir 800mg tablets for shingles'),
  text('Herpes zoster'),
  text('Letter about a file retrieved from the archive'),
  text('Renal clinic attendance'),
  code(TFC, '361', 'Nephrology Service'),
  text('Needs new hearing aids'),
  text('Spontaneous abortion at 9 weeks'),
  text('Chlamydia screen negative'),
  text('HIV test negative'),
  medicine('Misoprostol 200microgram tablets (NSAID ulcer prophylaxis)', 'A02BB01'),
  text('Top of the list for a hip replacement'),
  text('Pregnancy test positive'),
  code(ICD10, 'B19', 'Unspecified viral hepatitis'),
  code(ICD10, 'O03.9', 'Spontaneous abortion'),
  code(SCT, '38341003', 'Hypertensive disorder'),
];

const SYSTEMS: Record<string, string> = {
  'SNOMED CT': SCT,
  'CTV3 (Read v3)': CTV3,
  'Read v2': READ_V2,
  'ICD-10': ICD10,
  [SCT]: SCT,
};

/**
 * Codes from the published lists, as published. Mangled ones are left out, since no feed sends them:
 * `1.03E+15`, and SNOMED CT ids of 16 or more digits ending in 00, which a spreadsheet rounded to 15
 * significant digits (the feed sends the real id, which the list no longer holds).
 */
export function publishedConcepts(): Concept[] {
  if (!fixturesPresent) return [];
  const out: Concept[] = [];
  const rows = (f: string) =>
    parse(readFileSync(path.join(FIXTURES, 'combined', f), 'utf8'), { columns: true, bom: true }) as Record<
      string,
      string
    >[];
  for (const r of [
    ...rows('gp_summary_exclusion_codes_flat.csv'),
    ...rows('sensitive_codes_all_sources.csv'),
  ]) {
    const system = SYSTEMS[r.system ?? r.code_system ?? ''];
    if (!system || !r.code || /E\+/i.test(r.code) || r.category?.startsWith('genital_tract')) continue;
    if (system === SCT && /^\d{16,}$/.test(r.code) && r.code.endsWith('00')) continue;
    out.push(code(system, r.code, r.display ?? '', `published list (${r.category})`));
  }
  return out;
}

const P = { reference: 'Patient/p' };
/** A medicine always comes with its name (a feed sends the product's name with its dm+d code). */
const cc = (c: Concept, withWords: boolean) =>
  c.shape === 'text' || !c.code
    ? { text: c.words }
    : {
        coding: [
          {
            system: c.system,
            code: c.code,
            ...((withWords || c.shape === 'medicine') && c.words ? { display: c.words } : {}),
          },
        ],
      };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Where each kind of item carries the concept. Medicines go in medication kinds and as a reason. */
const PLACES: Record<string, (c: Concept, w: boolean) => Record<string, unknown>> = {
  Condition: (c, w) => ({ resourceType: 'Condition', code: cc(c, w), subject: P }),
  Procedure: (c, w) => ({ resourceType: 'Procedure', status: 'completed', code: cc(c, w), subject: P }),
  Observation: (c, w) => ({ resourceType: 'Observation', status: 'final', code: cc(c, w), subject: P }),
  DiagnosticReport: (c, w) => ({
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: cc(c, w),
    subject: P,
  }),
  MedicationRequest: (c, w) => ({
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject: P,
    ...(c.shape === 'medicine'
      ? { medicationCodeableConcept: cc(c, true) }
      : { medicationCodeableConcept: { text: 'Paracetamol 500mg tablets' }, reasonCode: [cc(c, w)] }),
  }),
  Immunization: (c, w) => ({
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: { text: 'Hepatitis B vaccine' },
    patient: P,
    occurrenceDateTime: '2024-01-01',
    reasonCode: [cc(c, w)],
  }),
  Encounter: (c, w) => ({
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: P,
    ...(c.system?.includes('treatment-function') ? { serviceType: cc(c, w) } : { reasonCode: [cc(c, w)] }),
  }),
  Appointment: (c, w) => ({
    resourceType: 'Appointment',
    status: 'booked',
    participant: [{ actor: P, status: 'accepted' }],
    ...(c.system?.includes('treatment-function') ? { specialty: [cc(c, w)] } : { reasonCode: [cc(c, w)] }),
  }),
  ServiceRequest: (c, w) => ({
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    subject: P,
    code: { text: 'Referral' },
    reasonCode: [cc(c, w)],
  }),
  CarePlan: (c, w) => ({
    resourceType: 'CarePlan',
    status: 'active',
    intent: 'plan',
    subject: P,
    category: [cc(c, w)],
  }),
  DocumentReference: (c, w) => ({
    resourceType: 'DocumentReference',
    status: 'current',
    subject: P,
    ...(c.shape === 'code'
      ? { type: cc(c, w), content: [{ attachment: { contentType: 'text/plain', data: b64('See notes.') } }] }
      : {
          type: { text: 'Clinic letter' },
          content: [
            {
              attachment: {
                contentType: 'text/plain',
                data: b64(`Dear colleague,\n\n${c.words ?? ''}.\n\nYours sincerely`),
              },
            },
          ],
        }),
  }),
};
export const KINDS = Object.keys(PLACES);

export function caseOf(kind: string, concept: Concept, sensitive: boolean, withWords: boolean): Case {
  return { kind, concept, sensitive, resource: { ...PLACES[kind]!(concept, withWords), id: 'x' } };
}

/** category × item kind × coding system (and free text), plus look-alikes, as one arbitrary. */
export function cases(sensitive: readonly Concept[]): fc.Arbitrary<Case> {
  return fc
    .oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(fc.constantFrom(...KINDS), fc.constantFrom(...sensitive), fc.boolean()),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.constantFrom(...KINDS), fc.constantFrom(...LOOK_ALIKES), fc.boolean()),
      },
    )
    .map(([kind, concept, words]) => caseOf(kind, concept, !LOOK_ALIKES.includes(concept), words));
}
