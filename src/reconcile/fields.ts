/**
 * The fields the rules may name, read from a stored item. Each match field gives a set of values
 * (two items agree on it when the sets meet); a missing field never matches. Text is compared
 * normalised (case, accents, punctuation and spacing do not count), the original wording is kept
 * for the reader (see `wordingOf`).
 */
import type { CodeableConcept, Reference, Resource } from '@medplum/fhirtypes';
import { effectiveDate, ODS_SYSTEM, sha256Hex, statusOf } from '../fhir/index.ts';

export const MATCH_FIELDS = [
  'code',
  'text',
  'day',
  'minute',
  'author-org',
  'care-org',
  'source-org',
  'title',
  'content-hash',
] as const;
export const WINDOW_FIELDS = ['time'] as const;
export const CONFLICT_FIELDS = [
  'dose',
  'verification',
  'clinical-status',
  'criticality',
  'value',
  'status',
] as const;

export type MatchField = (typeof MATCH_FIELDS)[number];
export type ConflictField = (typeof CONFLICT_FIELDS)[number];

/** What reconciliation needs to know of one stored item. */
export interface SourceItem {
  id: string;
  resourceType: string;
  /** whose item it is: items of different people are never the same thing */
  person: string;
  resource: Resource;
  /** the contributing organisation (ODS code) and source system that sent it */
  sourceOrg: string;
  sourceOrgName: string;
  sourceSystem: string;
  /** when Sharedcare received it */
  received?: string;
}

type Loose = Record<string, unknown>;

/** Lower case, no accents, punctuation as spaces, single spaces. */
export function normaliseText(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const t = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, ' ')
    .replace(/(?<!\d)\.|\.(?!\d)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return t || undefined;
}

function concepts(value: unknown): CodeableConcept[] {
  if (!value) return [];
  return (Array.isArray(value) ? value : [value]) as CodeableConcept[];
}

/** The concept that says what an item is, per type. */
export function mainConcepts(r: Resource): CodeableConcept[] {
  const x = r as unknown as Loose;
  switch (r.resourceType) {
    case 'MedicationStatement':
    case 'MedicationRequest':
    case 'MedicationAdministration':
    case 'MedicationDispense':
      return concepts(x.medicationCodeableConcept ?? containedMedication(x));
    case 'Immunization':
      return concepts(x.vaccineCode);
    case 'DocumentReference':
    case 'Composition':
      return concepts(x.type);
    case 'Encounter':
      return concepts(x.type);
    case 'Appointment':
      return concepts(x.serviceType ?? x.appointmentType);
    default:
      return concepts(x.code);
  }
}

function containedMedication(x: Loose): unknown {
  const ref = (x.medicationReference as Reference | undefined)?.reference;
  if (!ref?.startsWith('#')) return undefined;
  const med = (x.contained as Loose[] | undefined)?.find((c) => c.id === ref.slice(1));
  return med?.code;
}

function conceptText(c: CodeableConcept[]): string | undefined {
  for (const cc of c) {
    if (cc.text) return cc.text;
    const d = cc.coding?.find((k) => k.display)?.display;
    if (d) return d;
  }
  return undefined;
}

function titleOf(r: Resource): string | undefined {
  const x = r as unknown as Loose;
  if (r.resourceType === 'Composition') return x.title as string | undefined;
  if (r.resourceType === 'DocumentReference') {
    const content = x.content as { attachment?: { title?: string } }[] | undefined;
    return (
      (x.description as string | undefined) ?? content?.find((c) => c.attachment?.title)?.attachment?.title
    );
  }
  if (r.resourceType === 'Appointment') return x.description as string | undefined;
  return undefined;
}

/** The item's own words: what the source called it (a letter's title, a medicine's name). */
export function wordingOf(r: Resource): string {
  return titleOf(r) ?? conceptText(mainConcepts(r)) ?? r.resourceType;
}

function orgKeys(refs: (Reference | undefined)[]): string[] {
  const out: string[] = [];
  for (const ref of refs) {
    if (!ref) continue;
    if (ref.identifier?.system === ODS_SYSTEM && ref.identifier.value)
      out.push(`ods:${ref.identifier.value}`);
    else if (ref.display) out.push(`name:${normaliseText(ref.display)}`);
  }
  return out;
}

/** When it happened: the start of a visit, else the item's effective date. */
export function timeOf(r: Resource): string | undefined {
  const x = r as unknown as Loose;
  if (r.resourceType === 'Appointment' && typeof x.start === 'string') return x.start;
  if (r.resourceType === 'Encounter') {
    const start = (x.period as { start?: string } | undefined)?.start;
    if (start) return new Date(start).toISOString();
  }
  return effectiveDate(r);
}

function contentHashes(r: Resource): string[] {
  const x = r as unknown as Loose;
  const content = (x.content as { attachment?: { hash?: string; data?: string } }[] | undefined) ?? [];
  const out: string[] = [];
  for (const c of content) {
    if (c.attachment?.hash) out.push(`sha1:${c.attachment.hash}`);
    else if (c.attachment?.data) out.push(`sha256:${sha256Hex(c.attachment.data)}`);
  }
  return out;
}

export function matchValues(field: MatchField, item: SourceItem): string[] {
  const r = item.resource;
  const x = r as unknown as Loose;
  const one = (v: string | undefined) => (v ? [v] : []);
  switch (field) {
    case 'code':
      return mainConcepts(r).flatMap((c) =>
        (c.coding ?? []).flatMap((k) => (k.code ? [`${k.system ?? ''}|${k.code}`] : [])),
      );
    case 'text':
      return one(normaliseText(conceptText(mainConcepts(r))));
    case 'day':
      return one(timeOf(r)?.slice(0, 10));
    case 'minute':
      return one(timeOf(r)?.slice(0, 16));
    case 'title':
      return one(normaliseText(titleOf(r)));
    case 'author-org':
      return orgKeys([...((x.author as Reference[] | undefined) ?? [])]);
    case 'care-org': {
      const refs =
        r.resourceType === 'Encounter'
          ? [x.serviceProvider as Reference | undefined]
          : ((x.participant as { actor?: Reference }[] | undefined) ?? [])
              .map((p) => p.actor)
              .filter((a) => a?.identifier?.system === ODS_SYSTEM);
      const found = orgKeys(refs);
      return found.length > 0 ? found : [`ods:${item.sourceOrg}`];
    }
    case 'source-org':
      return [`ods:${item.sourceOrg}`];
    case 'content-hash':
      return contentHashes(r);
  }
}

function code(value: unknown): string | undefined {
  return (value as CodeableConcept | undefined)?.coding?.find((c) => c.code)?.code;
}

const NUMBER_WORDS: Record<string, string> = {
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  half: '0.5',
  once: '1 time',
  twice: '2 times',
};

/**
 * A dose as text, in one spelling: number words as digits, units joined to their numbers, plurals
 * dropped ("One tablet twice a day" and "1 tablets 2 times a day" agree). Written by hand: no
 * maintained library parses free-text UK dosage instructions; structured doses are compared as
 * value and unit.
 */
export function normaliseDose(s: string | undefined): string | undefined {
  const t = normaliseText(s);
  if (!t) return undefined;
  return t
    .split(' ')
    .map((w) => NUMBER_WORDS[w] ?? w)
    .join(' ')
    .replace(/(\d) (mg|g|mcg|ml|micrograms?|units?)\b/g, '$1$2')
    .replace(/\b([a-z]{3,})s\b/g, '$1');
}

function doseOf(x: Loose): string | undefined {
  const dosage = ((x.dosage ?? x.dosageInstruction) as Loose[] | undefined)?.[0];
  if (!dosage) return undefined;
  if (typeof dosage.text === 'string') return dosage.text;
  const q = (dosage.doseAndRate as { doseQuantity?: { value?: number; unit?: string } }[] | undefined)?.[0]
    ?.doseQuantity;
  return q?.value !== undefined ? `${q.value} ${q.unit ?? ''}` : undefined;
}

function valueOf(x: Loose): string | undefined {
  const q = x.valueQuantity as { value?: number; unit?: string; code?: string } | undefined;
  if (q?.value !== undefined) return `${q.value} ${q.unit ?? q.code ?? ''}`.trim();
  if (typeof x.valueString === 'string') return x.valueString;
  const cc = x.valueCodeableConcept as CodeableConcept | undefined;
  if (cc) return conceptText([cc]) ?? code(cc);
  const parts = (x.component as Loose[] | undefined)?.map(valueOf).filter(Boolean);
  return parts?.length ? parts.join(' / ') : undefined;
}

/** The raw value of a field that must agree between sources (undefined: not recorded). */
export function conflictValue(field: ConflictField, r: Resource): string | undefined {
  const x = r as unknown as Loose;
  switch (field) {
    case 'dose':
      return doseOf(x);
    case 'verification':
      return code(x.verificationStatus);
    case 'clinical-status':
      return code(x.clinicalStatus);
    case 'criticality':
      return typeof x.criticality === 'string' ? x.criticality : undefined;
    case 'value':
      return valueOf(x);
    case 'status':
      return statusOf(r);
  }
}

/** How a conflict field's values are compared when the rules give no classes: normalised. */
export function comparable(field: ConflictField, raw: string): string | undefined {
  return field === 'dose' ? normaliseDose(raw) : normaliseText(raw);
}
