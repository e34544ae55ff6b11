/**
 * Small FHIR R4 building blocks shared by every source generator, and SourceContext: the state of
 * one source system's record about one person (its Rng, its local patient id, its resource list).
 */
import type {
  CodeableConcept,
  Coding,
  Meta,
  Organization,
  Patient,
  Quantity,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { SNOMED, type Coded } from './gp-codes.ts';
import { UCUM } from './hospital-codes.ts';
import { Rng } from './random.ts';
import { ODS_SYSTEM, type RegionOrganisation, type RegionSource } from './region-spec.ts';

export const DAY_MS = 86_400_000;
export const YEAR_MS = 365.25 * DAY_MS;
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

// Formatting dates is the hottest path of generation (several per resource), so the date part is
// cached per day and the time part built from a table: ~10x faster than Date.prototype.toISOString.
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const dayCache = new Map<number, string>();

export function formatDate(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let text = dayCache.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dayCache.size > 100_000) dayCache.clear();
    dayCache.set(day, text);
  }
  return text;
}

/** The same text as new Date(ms).toISOString() for whole or fractional milliseconds. */
export function formatInstant(ms: number): string {
  const whole = Math.floor(ms);
  const inDay = whole - Math.floor(whole / DAY_MS) * DAY_MS;
  const h = Math.floor(inDay / 3_600_000);
  const m = Math.floor(inDay / 60_000) % 60;
  const s = Math.floor(inDay / 1000) % 60;
  return `${formatDate(whole)}T${PAD2[h]}:${PAD2[m]}:${PAD2[s]}.${PAD3[inDay % 1000]}Z`;
}

export function toConcept(system: string, c: Coded): CodeableConcept {
  return { coding: [{ system, code: c.code, display: c.display }], text: c.display };
}

export function toSnomed(c: Coded): CodeableConcept {
  return toConcept(SNOMED, c);
}

export function toTextConcept(text: string): CodeableConcept {
  return { text };
}

export function toCoding(system: string, code: string, display?: string): Coding {
  return display === undefined ? { system, code } : { system, code, display };
}

export function toQuantity(value: number, unit: string): Quantity {
  return { value, unit, system: UCUM, code: unit };
}

export function referenceOrg(org: RegionOrganisation): Reference<Organization> {
  return { identifier: { system: ODS_SYSTEM, value: org.ods }, display: org.name };
}

/** Every resource id is UUID-shaped; the last 12 hex digits hold person index and sequence, so ids are unique. */
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const VARIANTS = ['8', '9', 'a', 'b'];

function formatHex3(n: number): string {
  return `${HEX2[(n >>> 16) & 0xff]}${HEX2[(n >>> 8) & 0xff]}${HEX2[n & 0xff]}`;
}

export function makeResourceUuid(rng: Rng, index: number, seq: number): string {
  const a = rng.nextUint32();
  const b = rng.nextUint32();
  const head = `${HEX2[a >>> 24]}${HEX2[(a >>> 16) & 0xff]}${HEX2[(a >>> 8) & 0xff]}${HEX2[a & 0xff]}`;
  const mid = `${HEX2[b >>> 24]}${HEX2[(b >>> 16) & 0xff]}-4${HEX2[(b >>> 8) & 0xff]}${(b & 0xf).toString(16)}`;
  const variant = `${VARIANTS[(b >>> 4) & 3]}${HEX2[(a >>> 4) & 0xff]}${((a >>> 12) & 0xf).toString(16)}`;
  return `${head}-${mid}-${variant}-${formatHex3(index % 0x1000000)}${formatHex3(seq % 0x1000000)}`;
}

export class SourceContext {
  readonly resources: Resource[] = [];
  readonly patientRef: Reference<Patient>;
  private seq = 0;

  constructor(
    readonly source: RegionSource,
    readonly org: RegionOrganisation,
    readonly patientId: string,
    readonly rng: Rng,
    readonly now: number,
    readonly index: number,
    /** The start of this person's record window (birth or fifteen years ago). */
    readonly from: number,
  ) {
    this.patientRef = { reference: `Patient/${patientId}` };
  }

  nextId(): string {
    this.seq++;
    return makeResourceUuid(this.rng, this.index, this.seq);
  }

  /** meta for a resource recorded at time t (the system saves it a little after the event). */
  meta(t: number): Meta {
    return { versionId: '1', lastUpdated: formatInstant(Math.min(this.now, t + 2 * 3_600_000)) };
  }

  add<T extends Resource>(resource: T): T {
    this.resources.push(resource);
    return resource;
  }

  /** A time uniformly within [from, to], clamped to the record window and to now. */
  timeBetween(from: number, to: number = this.now): number {
    const lo = Math.max(from, this.from);
    const hi = Math.min(to, this.now);
    return hi <= lo ? hi : lo + this.rng.next() * (hi - lo);
  }

  /** A random time within the record window (and [from, to]), during working hours. */
  clinicTime(from: number = this.from, to: number = this.now): number {
    return Math.max(this.atClinicHours(this.timeBetween(from, to)), Math.min(this.from, this.now));
  }

  /** The same day as t, at a working-hours slot; never after now. */
  atClinicHours(t: number): number {
    const day = Math.floor(t / DAY_MS) * DAY_MS;
    const minutes = 8 * 60 + this.rng.int(0, 36) * 15;
    return Math.min(day + minutes * 60_000, this.now);
  }
}
