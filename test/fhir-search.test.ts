/**
 * The FHIR API's search, table by table: each row a query a client could send and the items
 * (by their source ids) a user would get back. Then what rows cannot show: sorting, paging links
 * that reach every item once, _include, strict and lenient handling, 406 for XML, ETags, gzip,
 * $everything's parameters, $summary, and the Patient search by demographics, each audited.
 */
import { gunzipSync } from 'node:zlib';
import type { Bundle, Composition, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken } from '../src/access/index.ts';
import { PROVENANCE_EXTENSION } from '../src/fhir/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { getAs, personIdFor, postFhir } from './http.ts';
import { bundle, patient } from './fhir-data.ts';
import { gpRecord, hospitalRecord, NHS } from './fhir-api-data.ts';

const NHS_OTHER = '9990000018';
const NHS_RESTRICTED = '9990000174';

/** The source's own id of a served item ("c-htn"), from its provenance extension. */
export function sourceIdOf(r: Resource): string {
  const prov = (
    r as { extension?: { url: string; extension?: { url: string; valueString?: string }[] }[] }
  ).extension?.find((e) => e.url === PROVENANCE_EXTENSION);
  return (
    prov?.extension?.find((e) => e.url === 'sourceId')?.valueString?.split('/')[1] ?? `(${r.resourceType})`
  );
}

const matches = (b: Bundle) =>
  (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!);

describe.each(DB_KINDS)('the FHIR search API on %s', (kind) => {
  let r: TestRegion;
  let id: string;
  let gp: string;

  beforeAll(async () => {
    r = await startRegion(kind);
    expect((await postFhir(r, 'gp-riverside', gpRecord())).status).toBe(200);
    expect((await postFhir(r, 'northgate-pas', hospitalRecord())).status).toBe(200);
    const other = patient('p2', NHS_OTHER, { address: [{ postalCode: 'LS1 4AP' }] });
    // an S-flagged person: the address is never shown, so the person is never found by it
    const hidden = patient('p3', NHS_RESTRICTED, {
      name: [{ family: 'Hidden', given: ['Kim'] }],
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
      address: [{ postalCode: 'NE1 1AA' }],
    });
    expect((await postFhir(r, 'gp-riverside', bundle('batch', [other, hidden]))).status).toBe(200);
    id = await personIdFor(r, NHS);
    gp = await r.userToken('dr.search', 'Y90001');
  }, 120_000);
  afterAll(async () => r.drop());

  const search = async (path: string, token = gp) => getAs<Bundle>(r, token, path.replace('{id}', id));

  // [type, query after patient={id}, the source ids expected]
  const TABLE: [string, string, string[]][] = [
    ['Condition', '', ['c-htn', 'c-asthma', 'c-cough']],
    ['Condition', 'clinical-status=active', ['c-htn', 'c-cough']],
    ['Condition', 'code=http://snomed.info/sct|38341003', ['c-htn']],
    ['Condition', 'code=38341003', ['c-htn']],
    ['Condition', 'code=http://loinc.org|38341003', []],
    ['Condition', 'code=38341003,195967001', ['c-htn', 'c-asthma']],
    ['Condition', 'category=problem-list-item', ['c-htn', 'c-asthma']],
    [
      'Condition',
      'category=http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis',
      ['c-cough'],
    ],
    ['Condition', 'date=2021-03-04', ['c-htn']],
    ['Condition', 'date=eq2021-03', ['c-htn']],
    ['Condition', 'date=ne2021-03-04', ['c-asthma', 'c-cough']],
    ['Condition', 'date=lt2021-03-04', ['c-asthma']],
    ['Condition', 'date=le2021-03-04', ['c-asthma', 'c-htn']],
    ['Condition', 'date=gt2021-03-04', ['c-cough']],
    ['Condition', 'date=ge2021-03-04', ['c-htn', 'c-cough']],
    ['Condition', 'date=sa2021', ['c-cough']],
    ['Condition', 'date=eb2021', ['c-asthma']],
    ['Condition', 'date=ge2019-01-01&date=lt2022-01-01', ['c-asthma', 'c-htn']],
    ['Condition', 'date=2019-06-01,2023-01-10', ['c-asthma', 'c-cough']],
    ['Condition', '_tag=https://fhir.nhs.uk/Id/ods-organization-code|RX1', ['c-cough']],
    ['Condition', '_source=urn:sharedcare:source:gp-riverside', ['c-htn', 'c-asthma']],
    ['Condition', '_lastUpdated=ge2000-01-01', ['c-htn', 'c-asthma', 'c-cough']],
    ['Condition', '_lastUpdated=lt2000-01-01', []],
    ['Condition', '_lastUpdated=ge2000-01-01&_lastUpdated=lt2000-01-02', []],
    ['Condition', 'category=problem-list-item&category=encounter-diagnosis', []],
    [
      'Condition',
      '_tag=https://fhir.nhs.uk/Id/ods-organization-code|Y90001&_tag=https://fhir.nhs.uk/Id/ods-organization-code|Y90001,https://fhir.nhs.uk/Id/ods-organization-code|RX1',
      ['c-htn', 'c-asthma'],
    ],
    ['Observation', 'category=laboratory', ['o-hba1c-1', 'o-hba1c-2']],
    ['Observation', 'status=preliminary', ['o-bp']],
    ['Observation', 'status=final,preliminary', ['o-hba1c-1', 'o-hba1c-2', 'o-bp']],
    ['Observation', 'code=http://snomed.info/sct|1049301000000100&date=ge2023', ['o-hba1c-2']],
    ['Observation', 'date=2022-04-15T09:30:00Z', ['o-hba1c-1']],
    ['Observation', 'date=gt2022-04-15T09:30:00Z', ['o-hba1c-2', 'o-bp']],
    // a time without a zone is the clock on the wall in England: 09:00 BST is 08:00 UTC
    ['Observation', 'date=2023-06-01T09:00', ['o-bp']],
    ['Observation', 'date=lt2023-06-01T09:00', ['o-hba1c-1', 'o-hba1c-2']],
    ['AllergyIntolerance', 'category=medication&clinical-status=active', ['a-pen']],
    ['AllergyIntolerance', 'code=91936005&date=2020', ['a-pen']],
    ['AllergyIntolerance', 'category=food', []],
    ['MedicationStatement', 'code=387458008&status=active', ['ms-aspirin']],
    ['MedicationRequest', 'code=108537001', ['mr-amlo']],
    ['MedicationRequest', 'status=stopped', ['mr-old']],
    ['MedicationRequest', 'date=ge2020', ['mr-amlo']],
    // mr-arv prescribes an antiretroviral sent as a referenced Medication: withheld, like its code
    ['MedicationRequest', 'status=active', ['mr-amlo']],
    ['MedicationRequest', 'code=http://www.whocc.no/atc|J05AR03', []],
    ['Immunization', 'vaccine-code=1181000221105&status=completed&date=2020-10', ['i-flu']],
    ['DiagnosticReport', 'category=laboratory&code=26604007&status=final', ['dr-1']],
    ['Encounter', 'type=185347001&status=finished&date=2023-01-10', ['e-1']],
    ['Encounter', 'status=in-progress', []],
    ['Appointment', 'service-type=394586005&status=booked&date=ge2024-01-01', ['ap-1']],
    ['DocumentReference', 'type=371531000&category=734163000&status=current&date=2023-02', ['d-1']],
    ['ServiceRequest', 'code=183519002&category=3457005&status=active', ['sr-1']],
    ['CarePlan', 'category=736353004&status=active&date=2022', ['cp-1']],
    ['Procedure', 'code=80146002&status=completed&date=lt2022', ['pr-1']],
  ];

  it.each(TABLE)('%s?patient={id}&%s', async (type, query, expected) => {
    const res = await search(`/fhir/${type}?patient={id}${query ? `&${query}` : ''}`);
    expect(res.status, res.text).toBe(200);
    expect(matches(res.body).map(sourceIdOf).sort()).toEqual([...expected].sort());
    expect(res.body.total).toBe(expected.length);
    expect(res.text).not.toContain('86406008'); // the never-shared item, in no answer
    expect(JSON.stringify(res.body.entry ?? [])).not.toMatch(/J05AR03|Truvada/); // nor the never-shared medicine
  });

  it('subject=Patient/{id} is the same as patient', async () => {
    const res = await search('/fhir/Condition?subject=Patient/{id}');
    expect(matches(res.body).map(sourceIdOf).sort()).toEqual(['c-asthma', 'c-cough', 'c-htn']);
  });

  it('sorts by date either way, and by _lastUpdated', async () => {
    const up = await search('/fhir/Observation?patient={id}&_sort=date');
    expect(matches(up.body).map(sourceIdOf)).toEqual(['o-hba1c-1', 'o-hba1c-2', 'o-bp']);
    const down = await search('/fhir/Observation?patient={id}&_sort=-date');
    expect(matches(down.body).map(sourceIdOf)).toEqual(['o-bp', 'o-hba1c-2', 'o-hba1c-1']);
    const received = await search('/fhir/Condition?patient={id}&_sort=-_lastUpdated');
    // the hospital sent its record after the GP's
    expect(sourceIdOf(matches(received.body)[0]!)).toBe('c-cough');
    expect((await search('/fhir/Observation?patient={id}&_sort=code')).status).toBe(400);
  });

  it('pages with _count: the next links reach every match exactly once, and say where they are', async () => {
    let url: string | undefined = `/fhir/Observation?patient=${id}&_count=2&_sort=date`;
    const seen: string[] = [];
    let pages = 0;
    while (url) {
      const res: { status: number; body: Bundle; text: string } = await getAs<Bundle>(
        r,
        gp,
        url.replace(r.config.publicUrl, ''),
      );
      expect(res.status, res.text).toBe(200);
      expect(res.body.total).toBe(3);
      const self = res.body.link?.find((l) => l.relation === 'self')?.url;
      expect(self).toContain(`_count=2`);
      seen.push(...matches(res.body).map(sourceIdOf));
      url = res.body.link?.find((l) => l.relation === 'next')?.url;
      pages++;
    }
    expect(pages).toBe(2);
    expect(seen).toEqual(['o-hba1c-1', 'o-hba1c-2', 'o-bp']);
    const none = await search('/fhir/Observation?patient={id}&_count=0');
    expect([none.body.total, matches(none.body).length]).toEqual([3, 0]);
    expect((await search('/fhir/Observation?patient={id}&_count=1001')).status).toBe(400);
    expect((await search('/fhir/Observation?patient={id}&_count=two')).status).toBe(400);
  });

  // [query after patient={id}, what is included (type: name or code), the match element that points at it]
  const INCLUDES: [string, string[], (m: Record<string, unknown>) => unknown][] = [
    [
      'MedicationRequest?code=108537001&_include=MedicationRequest:requester',
      ['Organization:Riverside Surgery'],
      (m) => m.requester,
    ],
    [
      'MedicationRequest?code=108537001&_include=MedicationRequest:medication',
      ['Medication:108537001'],
      (m) => m.medicationReference,
    ],
    // every prescription the reader gets; the antiretroviral's prescription is withheld, and so its Medication
    ['MedicationRequest?_include=MedicationRequest:medication', ['Medication:108537001'], () => undefined],
    [
      'MedicationRequest?code=108537001&_include=*',
      ['Medication:108537001', 'Organization:Riverside Surgery'],
      (m) => m.medicationReference,
    ],
    [
      'Encounter?_include=Encounter:service-provider',
      ['Organization:Northgate Hospital'],
      (m) => m.serviceProvider,
    ],
    [
      'Encounter?_include=Encounter:practitioner',
      ['Practitioner:Okafor'],
      (m) => (m.participant as { individual?: unknown }[])[0]!.individual,
    ],
    [
      'DiagnosticReport?_include=DiagnosticReport:performer',
      ['Organization:Northgate Hospital', 'Practitioner:Okafor'],
      (m) => (m.performer as unknown[])[1],
    ],
    [
      'DiagnosticReport?_include=DiagnosticReport:performer:Practitioner',
      ['Practitioner:Okafor'],
      (m) => (m.performer as unknown[])[1],
    ],
    ['Condition?_include=Condition:asserter:Practitioner', [], () => undefined],
  ];

  const describeIncluded = (res: Resource): string => {
    const r = res as {
      name?: string | { family?: string }[];
      code?: { coding?: { code?: string }[] };
    };
    const what = typeof r.name === 'string' ? r.name : (r.name?.[0]?.family ?? r.code?.coding?.[0]?.code);
    return `${res.resourceType}:${what}`;
  };

  it.each(INCLUDES)('_include: %s', async (query, expected, pointer) => {
    const res = await search(`/fhir/${query.replace('?', '?patient={id}&')}`);
    expect(res.status, res.text).toBe(200);
    const included = (res.body.entry ?? [])
      .filter((e) => e.search?.mode === 'include')
      .map((e) => e.resource!);
    expect(included.map(describeIncluded).sort()).toEqual(expected);
    expect(res.text).not.toMatch(/J05AR03|Truvada|86406008/);
    const first = matches(res.body)[0] as unknown as Record<string, unknown>;
    const target = pointer(first) as { reference?: string; display?: string } | undefined;
    if (target) {
      // the served item's reference points at the included resource, and keeps its display text
      const ref = target.reference ?? '';
      expect(included.map((i) => `${i.resourceType}/${i.id}`)).toContain(ref);
      if (ref.startsWith('Medication/')) {
        expect(first.medicationCodeableConcept).toBeUndefined(); // FHIR allows one medication[x]
        expect(target.display).toBe('Amlodipine');
      }
      if (ref.startsWith('Practitioner/')) expect(target.display).toBe('Dr Ada Okafor');
    }
    // the audit event counts what was included with what matched
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE person_id = $1 AND action = 'record.search' ORDER BY seq DESC LIMIT 1`,
      [id],
    );
    const event = JSON.parse(rows[0]!.event) as { returned: { count: number } };
    expect(event.returned.count).toBe(matches(res.body).length + included.length);
  });

  it('_include: without it nothing is included and the medication stays a code; a wrong one is refused', async () => {
    const plain = await search('/fhir/MedicationRequest?patient={id}&code=108537001');
    expect(plain.body.entry?.some((e) => e.search?.mode === 'include')).toBe(false);
    const request = matches(plain.body)[0] as { medicationCodeableConcept?: { text?: string } };
    expect(request.medicationCodeableConcept?.text).toBe('Amlodipine');
    const org = await getAs<Resource>(r, gp, '/fhir/Organization/RX1');
    expect(org.body).toMatchObject({ resourceType: 'Organization', id: 'RX1' });
    // a wrong _include is a wrong value, refused whatever the handling
    expect((await search('/fhir/Encounter?patient={id}&_include=Encounter:subject')).status).toBe(400);
    expect((await search('/fhir/Encounter?patient={id}&_include=Condition:asserter')).status).toBe(400);
    expect(
      (await search('/fhir/Encounter?patient={id}&_include=Encounter:practitioner:Medication')).status,
    ).toBe(400);
  });

  it('unknown parameters: refused under Prefer: handling=strict, ignored with a warning otherwise', async () => {
    const strict = await r.app.server.inject({
      url: `/fhir/Condition?patient=${id}&colour=blue&status=active`,
      headers: { authorization: `Bearer ${gp}`, prefer: 'handling=strict' },
    });
    expect(strict.statusCode).toBe(400);
    const outcome = strict.json() as { resourceType: string; issue: { expression?: string[] }[] };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.map((i) => i.expression?.[0]).sort()).toEqual(['colour', 'status']);
    const lenient = await search('/fhir/Condition?patient={id}&colour=blue');
    expect(lenient.status).toBe(200);
    expect(matches(lenient.body)).toHaveLength(3);
    const warning = lenient.body.entry?.find((e) => e.search?.mode === 'outcome')?.resource as {
      issue: { severity: string; expression?: string[] }[];
    };
    expect(warning.issue).toContainEqual(
      expect.objectContaining({ severity: 'warning', expression: ['colour'] }),
    );
    expect(lenient.body.link?.[0]?.url).not.toContain('colour');
    // a modifier the server does not support is refused either way (FHIR says SHALL)
    expect((await search('/fhir/Condition?patient={id}&code:text=asthma')).status).toBe(400);
    // a wrong value is refused either way
    expect((await search('/fhir/Condition?patient={id}&date=yesterday')).status).toBe(400);
  });

  it('answers XML requests with 406 and an OperationOutcome, and JSON ones as ever', async () => {
    for (const [url, accept] of [
      ['/fhir/metadata?_format=xml', undefined],
      [`/fhir/Condition?patient=${id}&_format=application/fhir+xml`, undefined],
      [`/fhir/Patient/${id}/$everything`, 'application/fhir+xml'],
    ] as const) {
      const res = await r.app.server.inject({
        url,
        headers: { authorization: `Bearer ${gp}`, ...(accept ? { accept } : {}) },
      });
      expect(res.statusCode, url).toBe(406);
      expect(res.headers['content-type']).toContain('application/fhir+json');
      expect((res.json() as { resourceType: string }).resourceType).toBe('OperationOutcome');
    }
    expect((await search('/fhir/Condition?patient={id}&_format=json')).status).toBe(200);
    const either = await r.app.server.inject({
      url: `/fhir/Condition?patient=${id}`,
      headers: { authorization: `Bearer ${gp}`, accept: 'application/fhir+xml, application/fhir+json;q=0.5' },
    });
    expect(either.statusCode).toBe(200);
  });

  it('reads an item with a weak ETag; If-None-Match answers 304; vread serves the current version', async () => {
    // (earlier versions: test/fhir-vread.test.ts)
    const item = matches((await search('/fhir/Procedure?patient={id}')).body)[0]!;
    const read = await r.app.server.inject({
      url: `/fhir/Procedure/${item.id}`,
      headers: { authorization: `Bearer ${gp}` },
    });
    expect(read.statusCode).toBe(200);
    expect(read.headers.etag).toBe('W/"1"');
    const again = await r.app.server.inject({
      url: `/fhir/Procedure/${item.id}`,
      headers: { authorization: `Bearer ${gp}`, 'if-none-match': 'W/"1"' },
    });
    expect([again.statusCode, again.body]).toEqual([304, '']);
    const changed = await r.app.server.inject({
      url: `/fhir/Procedure/${item.id}`,
      headers: { authorization: `Bearer ${gp}`, 'if-none-match': 'W/"0"' },
    });
    expect(changed.statusCode).toBe(200);
    expect((await getAs(r, gp, `/fhir/Procedure/${item.id}/_history/1`)).status).toBe(200);
    const old = await getAs<{ resourceType: string }>(r, gp, `/fhir/Procedure/${item.id}/_history/2`);
    expect([old.status, old.body.resourceType]).toEqual([404, 'OperationOutcome']);
  });

  it('gzips when asked', async () => {
    const res = await r.app.server.inject({
      url: `/fhir/Patient/${id}/$everything`,
      headers: { authorization: `Bearer ${gp}`, 'accept-encoding': 'gzip' },
    });
    expect(res.headers['content-encoding']).toBe('gzip');
    const body = JSON.parse(gunzipSync(res.rawPayload).toString('utf8')) as Bundle;
    expect(body.resourceType).toBe('Bundle');
  });

  it('$everything takes _type, _since and _count, and pages through everything once', async () => {
    const typed = await search('/fhir/Patient/{id}/$everything?_type=Condition,Procedure');
    expect(
      matches(typed.body)
        .map((x) => x.resourceType)
        .sort(),
    ).toEqual(['Condition', 'Condition', 'Condition', 'Procedure']);
    const later = await search('/fhir/Patient/{id}/$everything?_since=2999-01-01T00:00:00Z');
    expect(matches(later.body)).toHaveLength(0);
    const all = matches((await search('/fhir/Patient/{id}/$everything')).body)
      .map((x) => x.id)
      .sort();
    let url: string | undefined = `/fhir/Patient/${id}/$everything?_count=4`;
    const seen: string[] = [];
    let patients = 0;
    while (url) {
      const page: { status: number; body: Bundle; text: string } = await getAs<Bundle>(
        r,
        gp,
        url.replace(r.config.publicUrl, ''),
      );
      expect(page.status, page.text).toBe(200);
      patients += (page.body.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient').length;
      seen.push(...matches(page.body).map((x) => x.id!));
      url = page.body.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(seen.sort()).toEqual(all);
    expect(patients).toBe(1);
    expect((await search('/fhir/Patient/{id}/$everything?_type=Claim')).status).toBe(400);
    expect((await search('/fhir/Patient/{id}/$everything?_since=soon')).status).toBe(400);
  });

  it('$summary is an IPS-shaped document of what the reader may see, audited', async () => {
    const res = await search('/fhir/Patient/{id}/$summary');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'document' });
    const composition = res.body.entry![0]!.resource as Composition;
    expect(composition.type.coding?.[0]?.code).toBe('60591-5');
    const byCode = new Map(
      (composition.section ?? []).map((s) => [
        s.code?.coding?.[0]?.code ?? s.title,
        (s.entry ?? []).map((e) => {
          const target = res.body.entry!.find((x) => x.fullUrl?.endsWith(`/${e.reference}`))?.resource;
          return target ? sourceIdOf(target) : `missing ${e.reference}`;
        }),
      ]),
    );
    expect(byCode.get('11450-4')?.sort()).toEqual(['c-cough', 'c-htn']); // active problems
    expect(byCode.get('10160-0')?.sort()).toEqual(['mr-amlo', 'ms-aspirin']); // current medicines
    expect(byCode.get('48765-2')).toEqual(['a-pen']);
    expect(byCode.get('11369-6')).toEqual(['i-flu']);
    expect(byCode.get('30954-2')?.sort()).toEqual(['dr-1', 'o-bp', 'o-hba1c-1', 'o-hba1c-2']);
    expect(res.text).not.toContain('86406008');
    expect(res.text).toContain('not the full record');
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE person_id = $1 AND action = 'record.open' ORDER BY seq DESC LIMIT 1`,
      [id],
    );
    const event = JSON.parse(rows[0]!.event) as { query: string; returned: { count: number } };
    expect(event.query).toBe('Patient/{id}/$summary');
    expect(event.returned.count).toBe(1 + 2 + 2 + 1 + 1 + 4);
  });

  describe('Patient search by demographics (IHE PDQm)', () => {
    const ids = (b: Bundle) =>
      matches(b)
        .map((p) => p.id)
        .sort();

    it('finds by family (a prefix, any case) with birth date, and by birth date with postcode', async () => {
      const other = await personIdFor(r, NHS_OTHER);
      expect(ids((await search('/fhir/Patient?family=testperson&birthdate=1970-01-01')).body)).toEqual(
        [id, other].sort(),
      );
      expect(ids((await search('/fhir/Patient?family=Testp&given=Alex&birthdate=1970-01-01')).body)).toEqual(
        [id, other].sort(),
      );
      expect(
        ids((await search('/fhir/Patient?birthdate=1970-01-01&address-postalcode=ls14ap')).body),
      ).toEqual([other]);
      expect(ids((await search('/fhir/Patient?family=Nobody&birthdate=1970-01-01')).body)).toEqual([]);
      // a restricted address: the person is found by name, never by the postcode
      const hidden = await personIdFor(r, NHS_RESTRICTED);
      expect(ids((await search('/fhir/Patient?family=Hidden&birthdate=1970-01-01')).body)).toEqual([hidden]);
      expect(ids((await search('/fhir/Patient?birthdate=1970-01-01&address-postalcode=NE1')).body)).toEqual(
        [],
      );
      expect(ids((await search('/fhir/Patient?family=Testperson&birthdate=1971-01-01')).body)).toEqual([]);
    });

    it('shows only people the caller may see, and audits each one shown', async () => {
      // the hospital knows only the first person
      const hospital = await r.userToken('dr.ward', 'RX1');
      const res = await search('/fhir/Patient?family=Testperson&birthdate=1970-01-01', hospital);
      expect(ids(res.body)).toEqual([id]);
      const { rows } = await r.db.query<{ person_id: string; event: string }>(
        `SELECT person_id, event FROM audit_event WHERE action = 'patient.search' AND user_id = 'dr.ward' ORDER BY seq`,
      );
      expect(rows.map((x) => x.person_id)).toEqual([id]);
      expect(JSON.parse(rows[0]!.event).query).toBe('Patient?birthdate&family');
      // bound to another patient: nobody
      const bound = await mintUserToken(r.config.devIssuerSecret!, {
        user: 'dr.bound',
        org: 'Y90001',
        role: 'R8000',
        patient: NHS_OTHER,
      });
      expect(ids((await search('/fhir/Patient?family=Testperson&birthdate=1970-01-01', bound)).body)).toEqual(
        [await personIdFor(r, NHS_OTHER)],
      );
    });

    it('refuses the shapes that would let a caller browse: name alone, postcode alone, given without family', async () => {
      for (const q of [
        'family=Testperson',
        'address-postalcode=LS1',
        'given=Alex&birthdate=1970-01-01',
        'birthdate=1970',
        'identifier=x&family=y',
      ])
        expect((await search(`/fhir/Patient?${q}`)).status, q).toBe(400);
    });
  });
});
