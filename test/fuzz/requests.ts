/**
 * Arbitraries for the intake and query fuzz test: a valid region bundle mutated one to three times
 * (any element replaced, removed or added with hostile values: NUL, lone surrogates, nulls, deep
 * nesting, wrong types, unknown resourceTypes, duplicate fullUrls), NDJSON, raw text, and query
 * strings for the search, DPO and admin endpoints. Every hostile string may carry MARKER, so that
 * the test can find any echo of the request in the log.
 */
import fc from 'fast-check';

export const MARKER = 'Fuzzmarker-Halcyon-8812';

export interface FuzzRequest {
  method: 'GET' | 'POST';
  url: string;
  contentType?: string;
  body?: string;
}

/** The valid starting point: a patient and three kinds of item naming them. */
export function baseBundle(): Record<string, unknown> {
  const patientUrl = 'urn:uuid:0f7c8a52-6f0e-4b1a-9a57-3d2b8c1e4f10';
  const subject = { reference: patientUrl };
  const resources = [
    {
      resourceType: 'Patient',
      id: 'fz-p',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000077' }],
      name: [{ family: MARKER, given: ['Fuzz'] }],
      birthDate: '1960-06-06',
    },
    {
      resourceType: 'Condition',
      id: 'fz-c',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }] },
      subject,
      note: [{ text: `${MARKER} note` }],
    },
    {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'HbA1c' },
      subject,
      valueQuantity: { value: 48, unit: 'mmol/mol' },
    },
    {
      resourceType: 'Appointment',
      id: 'fz-a',
      status: 'booked',
      participant: [{ actor: subject, status: 'accepted' }],
    },
  ];
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource, i) => ({
      ...(i === 0 ? { fullUrl: patientUrl } : {}),
      resource,
      request: {
        method: i === 2 ? 'POST' : 'PUT',
        url: resource.id ? `${resource.resourceType}/${resource.id}` : resource.resourceType,
      },
    })),
  };
}

const hostile = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\udc00y',
  '',
  ' ',
  '\\',
  '"',
  '{',
  'Patient/',
  'Patient/fz-p',
  'urn:uuid:0f7c8a52-6f0e-4b1a-9a57-3d2b8c1e4f10',
  'Conditon',
  'Claim',
  '9990000018',
  '2020-13-45',
  'ge2020-01-01',
  '%00',
  '../../etc',
  "'; DROP TABLE person; --",
);

/** A string an attacker might send, sometimes carrying the marker. */
export const fuzzString = fc
  .tuple(
    fc.oneof(hostile, fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ maxLength: 8 })),
    fc.boolean(),
  )
  .map(([s, marked]) => (marked ? `${s}${MARKER}` : s));

function nested(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { url: 'http://example.org/x', extension: v };
  return v;
}

export const fuzzValue: fc.Arbitrary<unknown> = fc.oneof(
  fuzzString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fuzzString, fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fuzzString, fuzzString, { maxKeys: 3 }),
  fc.tuple(fc.integer({ min: 20, max: 1200 }), fuzzString).map(([d, s]) => nested(d, s)),
);

type Json = Record<string, unknown> | unknown[];

/** Every path to a node of the value (objects and arrays), each a list of keys. */
function paths(
  node: unknown,
  at: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  if (node === null || typeof node !== 'object') return out;
  out.push(at);
  for (const [k, v] of Object.entries(node as Json)) paths(v, [...at, k], out);
  return out;
}

function nodeAt(root: unknown, path: (string | number)[]): Json {
  let cur = root as Json;
  for (const k of path) cur = (cur as Record<string | number, unknown>)[k] as Json;
  return cur;
}

const mutation = fc.record({
  op: fc.constantFrom('set', 'delete', 'add', 'resourceType', 'duplicateFullUrl', 'dropIds'),
  where: fc.nat(),
  key: fuzzString,
  value: fuzzValue,
});

/** A mutated copy of the base bundle. */
export const fuzzBundle = fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
  const b = baseBundle();
  type E = { fullUrl?: string; resource?: Record<string, unknown>; request?: unknown };
  const isObj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  for (const m of ms) {
    // an earlier mutation may have replaced entries or resources with anything
    const entries = (Array.isArray(b.entry) ? b.entry : []).filter(isObj) as E[];
    const all = paths(b);
    const node = nodeAt(b, all[m.where % all.length]!);
    const keys = Object.keys(node);
    const key = keys.length ? keys[m.where % keys.length]! : m.key;
    const entry = entries[m.where % entries.length];
    if (m.op === 'set') (node as Record<string, unknown>)[key] = m.value;
    else if (m.op === 'delete') delete (node as Record<string, unknown>)[key];
    else if (m.op === 'add') (node as Record<string, unknown>)[m.key] = m.value;
    else if (m.op === 'resourceType' && isObj(entry?.resource)) entry.resource.resourceType = m.key;
    else if (m.op === 'duplicateFullUrl' && entry) entry.fullUrl = String(entries[0]?.fullUrl);
    else if (m.op === 'dropIds')
      for (const e of entries) {
        delete e.fullUrl;
        if (isObj(e.resource)) delete e.resource.id;
        e.request = { method: 'POST', url: String(e.resource?.resourceType) };
      }
  }
  return b;
});

/** An intake request: a mutated Bundle, NDJSON of its resources, or raw text, with a content type. */
export const fuzzIngest: fc.Arbitrary<FuzzRequest> = fc
  .oneof(
    {
      weight: 6,
      arbitrary: fuzzBundle.map((b) => ({ body: JSON.stringify(b), contentType: 'application/fhir+json' })),
    },
    {
      weight: 2,
      arbitrary: fuzzBundle.map((b) => ({
        body: (Array.isArray(b.entry) ? (b.entry as { resource?: unknown }[]) : [b])
          .map((e) => JSON.stringify(e?.resource ?? e))
          .join('\n'),
        contentType: 'application/fhir+ndjson',
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fuzzString, fc.constantFrom('application/fhir+json', 'application/fhir+ndjson', 'text/plain'))
        .map(([body, contentType]) => ({ body, contentType })),
    },
  )
  .map((r) => ({ method: 'POST' as const, url: '/ingest/fhir', ...r }));

/** Percent-encodes any string; a lone surrogate goes as the bytes Node would send (U+FFFD). */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

const queryPart = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'code',
        'status',
        'date',
        'patient',
        'subject',
        '_format',
        'identifier',
        'nhs',
        'user',
        'x',
      ),
      fuzzString,
    ),
    {
      maxLength: 3,
    },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${enc(v)}`));

/** A read: a search, a Patient lookup, $everything, or a DPO / admin listing, with hostile values. */
export function fuzzQuery(personId: string): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      fc.constantFrom('search', 'patient', 'everything', 'dpo', 'dpo-subject', 'admin', 'objections'),
      fc.constantFrom('Condition', 'Observation', 'Appointment', 'MedicationRequest'),
      fc.boolean(),
      queryPart,
      fuzzString,
    )
    .map(([kind, type, withPatient, q, v]) => {
      const base = withPatient ? [`patient=${personId}`] : [];
      const url = {
        search: `/fhir/${type}?${[...base, ...q].join('&')}`,
        patient: `/fhir/Patient?${[`identifier=${enc(`https://fhir.nhs.uk/Id/nhs-number|${v}`)}`, ...q].join('&')}`,
        everything: `/fhir/Patient/${withPatient ? personId : enc(v)}/$everything?${q.join('&')}`,
        dpo: `/dpo/access-report?user=${enc(v)}&${q.join('&')}`,
        'dpo-subject': `/dpo/subject-access-report?person=${enc(v)}&${q.join('&')}`,
        admin: `/admin/sources?${q.join('&')}`,
        objections: `/admin/objections?${[`nhs=${enc(v)}`, ...q].join('&')}`,
      }[kind];
      return { method: 'GET' as const, url };
    });
}
