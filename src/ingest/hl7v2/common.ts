/**
 * What every HL7 v2 mapper shares: coded values to FHIR CodeableConcepts (HL7 table 0396 coding
 * system names to FHIR system URIs), ids a source sends turned into valid FHIR ids, dates with
 * their problems collected, and the entries handed on to intake.
 */
import type { CodeableConcept, Coding, Resource } from '@medplum/fhirtypes';
import type { Problem } from '../../errors/index.ts';
import { sha256Hex } from '../../fhir/index.ts';
import type { Entry } from '../parse.ts';
import { hl7DateToFhir } from './dates.ts';
import type { ParsedMessage, Segment } from './message.ts';

/** OPCS-4, the NHS classification of interventions and procedures. */
export const OPCS4_SYSTEM = 'https://fhir.hl7.org.uk/Id/opcs-4';

/** HL7 v2 coding system names (table 0396 and UK usage) → FHIR system URIs. */
const SYSTEMS: Record<string, string> = {
  SCT: 'http://snomed.info/sct',
  SNM: 'http://snomed.info/sct',
  SNOMED: 'http://snomed.info/sct',
  'SNOMED-CT': 'http://snomed.info/sct',
  SNOMEDCT: 'http://snomed.info/sct',
  LN: 'http://loinc.org',
  LOINC: 'http://loinc.org',
  I10: 'http://hl7.org/fhir/sid/icd-10',
  ICD10: 'http://hl7.org/fhir/sid/icd-10',
  'ICD-10': 'http://hl7.org/fhir/sid/icd-10',
  I10UK: 'http://hl7.org/fhir/sid/icd-10',
  OPCS: OPCS4_SYSTEM,
  OPCS4: OPCS4_SYSTEM,
  'OPCS-4': OPCS4_SYSTEM,
  READ: 'http://read.info/readv2',
  READ2: 'http://read.info/readv2',
  R2: 'http://read.info/readv2',
  C4: 'http://read.info/readv2',
  CTV3: 'http://read.info/ctv3',
  C3: 'http://read.info/ctv3',
  DMD: 'https://dmd.nhs.uk',
  ATC: 'http://www.whocc.no/atc',
  CVX: 'http://hl7.org/fhir/sid/cvx',
};

/** A source's local codes mapped to standard "system|code", by code table. */
export type CodeMap = Record<string, Record<string, string>>;

/** What a mapper works with: the message, its segments, the source, and problems found. */
export class MappingContext {
  readonly problems: Problem[] = [];
  readonly entries: Entry[] = [];

  constructor(
    readonly parsed: ParsedMessage,
    readonly segments: Segment[],
    readonly sourceId: string,
    /** the source's local codes mapped to standard ones, by code table (configuration) */
    readonly codeMap: CodeMap = {},
  ) {}

  first(name: string): Segment | undefined {
    return this.segments.find((s) => s.name === name);
  }

  all(name: string): Segment[] {
    return this.segments.filter((s) => s.name === name);
  }

  /** A date field as FHIR; an impossible date is a problem naming the field. */
  date(seg: Segment, field: number, component = 1, dateOnly = false): string | undefined {
    const r = hl7DateToFhir(seg.get(field, component), `${seg.at}-${field}`, dateOnly);
    if (r.ok) return r.value;
    this.problems.push(r.problem);
    return undefined;
  }

  require(seg: Segment, field: number, what: string): string {
    const v = seg.get(field);
    if (!v)
      this.problems.push({
        message: `${seg.at}-${field} (${what}) is empty`,
        expression: `${seg.at}-${field}`,
      });
    return v;
  }

  add(at: string, resource: Resource): void {
    this.entries.push({ at, resource, method: 'PUT' });
  }

  /** A coded field (CE/CWE) as a CodeableConcept; local codes keep the source's own system. */
  coded(seg: Segment, field: number, rep = 0): CodeableConcept | undefined {
    return this.codedFrom(seg, field, 1, rep);
  }

  /** A CE/CWE whose triplet starts at `offset` (1 for the first, 4 for the alternate). */
  private codedFrom(seg: Segment, field: number, offset: number, rep: number): CodeableConcept | undefined {
    const codings: Coding[] = [];
    for (const start of offset === 1 ? [1, 4] : [offset]) {
      const code = seg.get(field, start, rep);
      const display = seg.get(field, start + 1, rep);
      const system = seg.get(field, start + 2, rep);
      if (code) codings.push(...this.codings(system, code, display));
    }
    const text = seg.get(field, 2, rep) || seg.get(field, 9, rep);
    if (codings.length === 0 && !text) return undefined;
    return { ...(codings.length ? { coding: codings } : {}), ...(text ? { text } : {}) };
  }

  /** A code as codings: as sent, plus the standard code a local one is mapped to. */
  codings(systemName: string, code: string, display = ''): Coding[] {
    const own: Coding = { system: this.systemUri(systemName), code, ...(display ? { display } : {}) };
    const mapped = SYSTEMS[systemName.toUpperCase()]
      ? undefined
      : this.codeMap[systemName || 'local']?.[code];
    if (!mapped) return [own];
    const bar = mapped.indexOf('|');
    return [own, { system: mapped.slice(0, bar), code: mapped.slice(bar + 1) }];
  }

  /** A local code of a table the message does not name (a clinic, a ward, a hospital service). */
  localCode(table: string, code: string, display = ''): CodeableConcept {
    return { coding: this.codings(table, code, display) };
  }

  /** A coding system name as a URI: a standard one, else the source's own (local codes). */
  systemUri(name: string): string {
    const known = SYSTEMS[name.toUpperCase()];
    if (known) return known;
    return `urn:sharedcare:source:${this.sourceId}:codes:${encodeURIComponent(name || 'local')}`;
  }
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** A source's id as a FHIR id: unchanged when it is one, else a stable digest of it. */
export function fhirId(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('-');
  return FHIR_ID.test(joined) ? joined : `h${sha256Hex(joined).slice(0, 40)}`;
}

/** A visit's Encounter id, from its visit number (PV1-19): an ADT message and a result name it alike. */
export function visitId(visitNumber: string): string {
  return fhirId('visit', visitNumber);
}

export function patientRef(patientId: string): { reference: string } {
  return { reference: `Patient/${patientId}` };
}
