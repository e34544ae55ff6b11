/**
 * The FHIR API as other systems use it: two independent FHIR clients from npm (fhir-kit-client and
 * the SMART JavaScript client, fhirclient) against the real server listening on a socket, over the
 * synthetic region `sharedcare generate` writes (loaded through the real intake). Every resource
 * they get back validates against the FHIR R4 base definitions (Medplum's StructureDefinition
 * validator, with FHIRPath invariants), and paging over the heaviest person with either client's
 * own paging returns every item exactly once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bundle, CapabilityStatement, Patient, Resource } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import smart from 'fhirclient';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { SEARCH_TYPES, validateFhirResource } from '../src/fhir/index.ts';
import { startSyntheticRegion, type SyntheticRegion } from '../bench/viewer-region.ts';
import type { ChosenPerson } from '../bench/region.ts';
import { memoryStorage } from './smart-kit.ts';

const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

describe('independent FHIR clients against the synthetic region', () => {
  let region: SyntheticRegion;
  const tokens = new Map<ChosenPerson, string>();
  const ids = new Map<ChosenPerson, string>();
  /** every resource any client got back, with where it came from */
  const returned: { at: string; resource: Resource }[] = [];
  let typical: ChosenPerson;
  let heavy: ChosenPerson;

  const kit = (p: ChosenPerson) =>
    new Client({
      baseUrl: `${region.base}/fhir`,
      customHeaders: { authorization: `Bearer ${tokens.get(p)}` },
    });

  const keep = (at: string, b: Bundle | Resource) => {
    returned.push({ at, resource: b as Resource });
    if (b.resourceType === 'Bundle')
      for (const [i, e] of (b.entry ?? []).entries())
        if (e.resource) returned.push({ at: `${at} entry ${i}`, resource: e.resource });
  };

  beforeAll(async () => {
    region = await startSyntheticRegion(40);
    typical = region.persons.find((p) => p.label === 'typical')!;
    heavy = region.persons.find((p) => p.label === 'heavy')!;
    for (const p of [typical, heavy]) {
      tokens.set(
        p,
        await mintUserToken(region.config.devIssuerSecret!, {
          user: 'dr.client',
          org: p.gpOrg,
          role: 'R8000',
        }),
      );
      const found = (await kit(p).search({
        resourceType: 'Patient',
        searchParams: { identifier: `${NHS_SYSTEM}|${p.nhsNumber}` },
      })) as unknown as Bundle;
      keep(`Patient?identifier (${p.label})`, found);
      ids.set(p, found.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource!.id!);
    }
  }, 600_000);
  afterAll(async () => region?.close());

  it('fhir-kit-client reads the CapabilityStatement, the Patient, and searches each type', async () => {
    const client = kit(typical);
    const cs = (await client.capabilityStatement()) as unknown as CapabilityStatement;
    keep('metadata', cs);
    expect(cs.fhirVersion).toBe('4.0.1');
    const id = ids.get(typical)!;
    const patient = (await client.read({ resourceType: 'Patient', id })) as unknown as Patient;
    keep('Patient read', patient);
    expect(patient.identifier?.some((i) => i.value === typical.nhsNumber)).toBe(true);
    let total = 0;
    for (const type of SEARCH_TYPES) {
      const b = (await client.search({
        resourceType: type,
        searchParams: { patient: id, _sort: '-date' },
      })) as unknown as Bundle;
      keep(`${type} search`, b);
      expect(b.type).toBe('searchset');
      total += b.total ?? 0;
    }
    expect(total).toBeGreaterThan(50);
    const labs = (await client.search({
      resourceType: 'Observation',
      searchParams: { patient: id, category: 'laboratory', date: 'ge2000-01-01', _count: 5 },
    })) as unknown as Bundle;
    keep('Observation filtered', labs);
    expect(labs.entry?.filter((e) => e.search?.mode === 'match').length).toBeLessThanOrEqual(5);
    const summary = (await client.operation({
      name: '$summary',
      resourceType: 'Patient',
      id,
      method: 'GET',
    })) as unknown as Bundle;
    keep('$summary', summary);
    expect(summary.type).toBe('document');
    // vread of the version a read gave
    const first = (await client.search({
      resourceType: 'Condition',
      searchParams: { patient: id, _count: 1 },
    })) as unknown as Bundle;
    const item = first.entry?.find((e) => e.search?.mode === 'match')?.resource;
    if (item) {
      const v = (await client.vread({
        resourceType: 'Condition',
        id: item.id!,
        version: item.meta!.versionId!,
      })) as unknown as Resource;
      expect(v.id).toBe(item.id);
    }
  });

  it('fhir-kit-client pages through the heavy record with nextPage: every item exactly once', async () => {
    const client = kit(heavy);
    const id = ids.get(heavy)!;
    const whole = (await client.operation({
      name: '$everything',
      resourceType: 'Patient',
      id,
      method: 'GET',
    })) as unknown as Bundle;
    const all = (whole.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id!);
    expect(all.length).toBeGreaterThan(1000);
    let page = (await client.operation({
      name: '$everything',
      resourceType: 'Patient',
      id,
      method: 'GET',
      input: { _count: 250 },
    })) as unknown as Bundle | undefined;
    const seen: string[] = [];
    let pages = 0;
    while (page) {
      keep(`$everything page ${pages} (heavy)`, page);
      expect(page.total).toBe(all.length);
      seen.push(...(page.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id!));
      page =
        ((await client.nextPage({
          bundle: page as unknown as Parameters<Client['nextPage']>[0]['bundle'],
        })) as unknown as Bundle | undefined) ?? undefined;
      pages++;
    }
    expect(pages).toBe(Math.ceil(all.length / 250));
    expect(seen.length).toBe(all.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...all].sort());
  });

  it('the SMART client (fhirclient) follows the paging links of a filtered search and of $everything', async () => {
    const req = { url: '/', headers: { host: '127.0.0.1' }, socket: {} } as unknown as IncomingMessage;
    const client = smart(req, {} as ServerResponse, memoryStorage()).client({
      serverUrl: `${region.base}/fhir`,
      tokenResponse: { access_token: tokens.get(heavy)!, patient: ids.get(heavy)! },
    });
    const id = ids.get(heavy)!;
    const everything = (await client.request(`Patient/${id}/$everything?_count=500`, {
      pageLimit: 0,
      flat: true,
    })) as Resource[];
    const items = everything.filter(
      (r) => r.resourceType !== 'Patient' && r.resourceType !== 'OperationOutcome',
    );
    expect(new Set(items.map((r) => r.id)).size).toBe(items.length);
    const whole = (await client.request(`Patient/${id}/$everything`)) as Bundle;
    expect(items.length).toBe((whole.entry ?? []).filter((e) => e.search?.mode === 'match').length);
    const obs = (await client.request(`Observation?patient=${id}&date=ge2000-01-01&_sort=-date&_count=100`, {
      pageLimit: 0,
      flat: true,
    })) as Resource[];
    const plain = (await client.request(`Observation?patient=${id}&date=ge2000-01-01`)) as Bundle;
    const matched = obs.filter((r) => r.resourceType === 'Observation');
    expect(matched.length).toBe(plain.total);
    expect(new Set(matched.map((r) => r.id)).size).toBe(matched.length);
    const patient = (await client.patient.read()) as Patient;
    expect(patient.id).toBe(id);
  });

  it('every resource the clients got back validates against the FHIR R4 base definitions', () => {
    expect(returned.length).toBeGreaterThan(2000);
    const problems = returned.flatMap(({ at, resource }) =>
      validateFhirResource(resource, resource.resourceType, 'full').map(
        (p) => `${at}: ${p.expression}: ${p.message}`,
      ),
    );
    expect(problems.slice(0, 20)).toEqual([]);
  }, 300_000); // thousands of resources through the StructureDefinition validator
});
