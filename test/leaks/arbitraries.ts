/**
 * What the leak property generates: a region's persons (their items from several sources, with
 * codes, labels, dates, links and named organisations; their objections and overrides), its
 * readers (role, organisation, a session bound to a patient, break glass) and the reads they make.
 * Descriptions only: ids are indexes, resolved when the region is sent (region.ts).
 */
import fc from 'fast-check';
import {
  ICD10_PREFIXES,
  icdVariant,
  LABELS,
  LISTED,
  ORDINARY,
  ORGS,
  OUTSIDE_CLINIC,
  ROLES,
  SECTIONS,
  SOURCES,
  UNKNOWN_ORG,
  type Code,
  type IcdSpelling,
  type Label,
} from './catalogue.ts';
import { ALL_STATUSES, TYPE_NAMES, type ItemType } from './fhir.ts';

/** A day relative to today and a minute within it (never midnight, so date bounds are clear cut). */
export interface When {
  days: number;
  minute: number;
}

export interface ItemSpec {
  type: ItemType;
  /** index into the person's sources */
  source: number;
  codes: Code[];
  labels: Label[];
  /** index into the type's statuses */
  status: number;
  enteredInError: boolean;
  when: When | null;
  /** ODS code of an organisation the item names (performer, service provider, author…) */
  names: string | null;
  /** element: index into the type's link elements; to: the n-th other item of the same source */
  links: { element: number; to: number }[];
  /** sent again later, changed: new security labels only, new codes, or entered in error */
  revision: Revision | null;
}

export type Revision =
  { change: 'labels'; labels: Label[] } | { change: 'codes'; codes: Code[] } | { change: 'entered-in-error' };

export interface OverrideSpec {
  ground: 'safeguarding' | 'public-interest';
  forOrg: string | null;
  ended: boolean;
}

export interface ObjectionSpec {
  scope: 'record' | 'organisation' | 'category' | 'item';
  org: string;
  section: string;
  item: number;
  /** name the item as Type/id rather than id */
  typedItem: boolean;
  byDpo: boolean;
  withdrawn: boolean;
  overrides: OverrideSpec[];
}

export interface PersonSpec {
  /** the sources that send the person's items (a few, so that items link to each other) */
  sources: string[];
  items: ItemSpec[];
  /** sources that hold the person's record without sending items (a GP registration, say) */
  alsoKnownTo: string[];
  /** a hospital record naming the person's GP practice */
  namedGp: string | null;
  restricted: boolean;
  objections: ObjectionSpec[];
}

export interface ReaderSpec {
  role: string;
  /** an organisation, or (a number) the n-th viewing organisation holding someone's record */
  org: string | number;
  /** the session was launched for this person (index), as a clinical system's launch binds it */
  boundTo: number | null;
  breakGlass: { person: number; validReason: boolean }[];
}

export type ReadPath =
  | 'patient-search'
  | 'patient-read'
  | 'everything'
  | 'everything-paged'
  | 'summary'
  | 'reconciled'
  | 'section'
  | 'section-include'
  | 'pdqm-name'
  | 'pdqm-postcode'
  | 'consent'
  | 'item';

export interface ReadSpec {
  reader: number;
  person: number;
  /** ask for someone who is not in the record at all */
  unknownPerson: boolean;
  path: ReadPath;
  /** a type, or (a number) the type of the person's n-th item (for a read of one item: that item) */
  type: ItemType | number;
  dates: { prefix: 'ge' | 'le' | 'gt' | 'lt' | 'eq'; days: number }[];
  statuses: string[];
  /** a code, or (a number) the first code of the person's n-th item */
  code: Code | number | null;
}

export interface RegionSpec {
  persons: PersonSpec[];
  readers: ReaderSpec[];
  reads: ReadSpec[];
}

const icdSpelling: fc.Arbitrary<IcdSpelling> = fc.constantFrom(
  'as-listed',
  'sub-code',
  'dotted',
  'lower-case',
  'uk-edition',
);
export const code: fc.Arbitrary<Code> = fc.oneof(
  { weight: 50, arbitrary: fc.constantFrom(...ORDINARY) },
  { weight: 2, arbitrary: fc.constantFrom(...LISTED) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...ICD10_PREFIXES), fc.integer({ min: 0, max: 9 }), icdSpelling)
      .map(([p, d, s]) => icdVariant(p, d, s)),
  },
);

/** Recent (within the 365 days a closed contact counts), long ago, in the future, or no date. */
const when: fc.Arbitrary<When | null> = fc.oneof(
  fc.record({ days: fc.integer({ min: -330, max: -1 }), minute: fc.integer({ min: 480, max: 1079 }) }),
  fc.record({ days: fc.integer({ min: -3000, max: -400 }), minute: fc.integer({ min: 480, max: 1079 }) }),
  fc.record({ days: fc.integer({ min: 1, max: 60 }), minute: fc.integer({ min: 480, max: 1079 }) }),
  fc.constant(null),
);

/** null usually, a value about once in n */
const sometimes = <T>(n: number, arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
/** true about once in n */
const chance = (n: number) => fc.nat(n - 1).map((k) => k === 0);
/** an index, resolved modulo the length of what it picks from (unbiased: fast-check favours 0) */
const index = (max = 20) => fc.noBias(fc.nat(max));

const ods = fc.constantFrom(...ORGS.map((o) => o.ods));
/** a source; the listed organisation's less often than the others */
const sourceId = fc.oneof(
  { weight: 14, arbitrary: fc.constantFrom(...SOURCES.filter((s) => !s.org.neverShared).map((s) => s.id)) },
  { weight: 1, arbitrary: fc.constantFrom(...SOURCES.filter((s) => s.org.neverShared).map((s) => s.id)) },
);

const labels = fc.oneof(
  { weight: 14, arbitrary: fc.constant<Label[]>([]) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 2 }) },
);

const revision: fc.Arbitrary<Revision | null> = fc.oneof(
  { weight: 16, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc.record({
      change: fc.constant('labels' as const),
      labels: fc.array(fc.constantFrom(...LABELS), { maxLength: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      change: fc.constant('codes' as const),
      codes: fc.array(code, { minLength: 1, maxLength: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ change: fc.constant('entered-in-error' as const) }) },
);

export const item: fc.Arbitrary<ItemSpec> = fc.record({
  type: fc.constantFrom(...TYPE_NAMES),
  source: index(2),
  codes: fc.array(code, { minLength: 1, maxLength: 2 }),
  labels,
  status: index(3),
  enteredInError: chance(20),
  when,
  names: fc.oneof(
    { weight: 24, arbitrary: fc.constant(null) },
    { weight: 4, arbitrary: ods },
    { weight: 1, arbitrary: fc.constant(OUTSIDE_CLINIC.ods) },
  ),
  links: fc.array(fc.record({ element: index(5), to: index(20) }), { maxLength: 2 }),
  revision,
});

const objection: fc.Arbitrary<ObjectionSpec> = fc.record({
  scope: fc.constantFrom('record', 'organisation', 'organisation', 'category', 'category', 'item', 'item'),
  org: ods,
  section: fc.constantFrom(...SECTIONS),
  item: index(20),
  typedItem: fc.boolean(),
  byDpo: fc.boolean(),
  withdrawn: chance(4),
  overrides: fc.array(
    fc.record({
      ground: fc.constantFrom('safeguarding', 'public-interest'),
      forOrg: sometimes(2, ods),
      ended: fc.boolean(),
    }),
    { maxLength: 2 },
  ),
});

export const person: fc.Arbitrary<PersonSpec> = fc.record({
  sources: fc.uniqueArray(sourceId, { minLength: 1, maxLength: 3 }),
  items: fc.array(item, { maxLength: 16, size: 'medium' }),
  alsoKnownTo: fc.uniqueArray(sourceId, { maxLength: 2 }),
  namedGp: sometimes(4, fc.constantFrom('Y90001', 'Y90002')),
  restricted: fc.boolean(),
  objections: fc.array(objection, { maxLength: 3 }),
});

const roleName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('R8000', 'R8001', 'R0260') },
  { weight: 2, arbitrary: fc.constantFrom('R0243', 'social-worker') },
  { weight: 2, arbitrary: fc.constantFrom('R8009', 'R8006') },
  { weight: 1, arbitrary: fc.constantFrom(...Object.keys(ROLES)) },
);

export const reader: fc.Arbitrary<ReaderSpec> = fc.record({
  role: roleName,
  org: fc.oneof(
    { weight: 8, arbitrary: index(20) },
    { weight: 4, arbitrary: ods },
    { weight: 1, arbitrary: fc.constant(UNKNOWN_ORG) },
  ),
  boundTo: sometimes(10, index(3)),
  breakGlass: fc.array(fc.record({ person: index(3), validReason: chance(4).map((b) => !b) }), {
    maxLength: 3,
  }),
});

export function read(): fc.Arbitrary<ReadSpec> {
  return fc.record({
    reader: index(7),
    person: index(3),
    unknownPerson: chance(40),
    path: fc.constantFrom<ReadPath>(
      'everything',
      'everything',
      'everything-paged',
      'summary',
      'reconciled',
      'section',
      'section',
      'section',
      'section-include',
      'pdqm-name',
      'pdqm-postcode',
      'patient-search',
      'patient-read',
      'consent',
      'item',
      'item',
    ),
    type: fc.oneof(
      { weight: 3, arbitrary: index(20) },
      { weight: 1, arbitrary: fc.constantFrom(...TYPE_NAMES) },
    ),
    dates: fc.oneof(
      { weight: 2, arbitrary: fc.constant<ReadSpec['dates']>([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.record({
            prefix: fc.constantFrom<'ge' | 'le' | 'gt' | 'lt' | 'eq'>('ge', 'le', 'gt', 'lt', 'eq'),
            days: fc.oneof(fc.integer({ min: -3000, max: 60 }), fc.constantFrom(-200, -30, 0, 10)),
          }),
          { minLength: 1, maxLength: 2 },
        ),
      },
    ),
    statuses: fc.oneof(
      { weight: 3, arbitrary: fc.constant<string[]>([]) },
      {
        weight: 1,
        arbitrary: fc.uniqueArray(fc.constantFrom(...ALL_STATUSES), { minLength: 1, maxLength: 2 }),
      },
    ),
    code: fc.oneof(
      { weight: 6, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: code },
      { weight: 2, arbitrary: index(20) },
    ),
  });
}

export function region(reads: number): fc.Arbitrary<RegionSpec> {
  return fc.record({
    persons: fc.array(person, { minLength: 1, maxLength: 4 }),
    readers: fc.array(reader, { minLength: 1, maxLength: 8, size: 'medium' }),
    reads: fc.array(read(), { minLength: reads, maxLength: reads }),
  });
}
