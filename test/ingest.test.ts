import type { Bundle, Condition, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, NHS_B, observation, patient } from './fhir-data.ts';
import { count, everything, getAs, personIdFor, postFhir } from './http.ts';
import { generalPractitioners } from '../viewer/src/model/general-practitioner.ts';

const PROVENANCE = 'https://sharedcare.dev/fhir/StructureDefinition/provenance';

function provenanceOf(r: Resource): Record<string, unknown> {
  const ext = (
    r as { extension?: { url: string; extension?: { url: string; [k: string]: unknown }[] }[] }
  ).extension?.find((e) => e.url === PROVENANCE);
  return Object.fromEntries(
    (ext?.extension ?? []).map((e) => [
      e.url,
      e.valueString ??
        e.valueInstant ??
        (e.valueReference as { identifier?: { value?: string } })?.identifier?.value,
    ]),
  );
}

describe.each(DB_KINDS)('ingest on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r.drop());

  it.each(['transaction', 'batch', 'collection'] as const)(
    'accepts a %s bundle and stores each entry once',
    async (type) => {
      const nhs = { transaction: '9990000034', batch: '9990000042', collection: '9990000050' }[type];
      const res = await postFhir(
        r,
        'gp-riverside',
        bundle(type, [patient(`p-${type}`, nhs), condition(`c-${type}`, `Patient/p-${type}`, HYPERTENSION)]),
      );
      expect(res.status).toBe(200);
      expect(res.body.entry?.map((e) => e.response?.status)).toEqual(['200 OK', '201 Created']);
      const { items } = await everything(r, await personIdFor(r, nhs));
      expect(items.map((i) => i.resourceType)).toEqual(['Condition']);
    },
  );

  it('accepts NDJSON', async () => {
    const lines = [
      patient('nd1', '9990000069'),
      observation('nd-o1', 'Patient/nd1', 50),
      observation('nd-o2', 'Patient/nd1', 52, '2023-01-01'),
    ]
      .map((x) => JSON.stringify(x))
      .join('\n');
    const res = await postFhir(r, 'gp-riverside', lines, 'application/fhir+ndjson');
    expect(res.status).toBe(200);
    const { items } = await everything(r, await personIdFor(r, '9990000069'));
    expect(items).toHaveLength(2);
    // newest first
    expect((items[0] as Observation).effectiveDateTime).toBe('2023-01-01');
  });

  it('resolves urn:uuid references inside a bundle', async () => {
    const b: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:6f1b8a0e-0000-4000-8000-000000000001',
          resource: patient('urn-p', '9990000077'),
          request: { method: 'POST', url: 'Patient' },
        },
        {
          fullUrl: 'urn:uuid:6f1b8a0e-0000-4000-8000-000000000002',
          resource: {
            resourceType: 'Encounter',
            id: 'urn-e',
            status: 'in-progress',
            class: { code: 'IMP' },
            subject: { reference: 'urn:uuid:6f1b8a0e-0000-4000-8000-000000000001' },
          } as Resource,
          request: { method: 'POST', url: 'Encounter' },
        },
        {
          fullUrl: 'urn:uuid:6f1b8a0e-0000-4000-8000-000000000003',
          resource: condition('urn-c', 'urn:uuid:6f1b8a0e-0000-4000-8000-000000000001', HYPERTENSION, {
            encounter: { reference: 'urn:uuid:6f1b8a0e-0000-4000-8000-000000000002' },
          }),
          request: { method: 'POST', url: 'Condition' },
        },
      ],
    };
    expect((await postFhir(r, 'northgate-pas', b)).status).toBe(200);
    const personId = await personIdFor(r, '9990000077');
    // the open admission at the hospital is what lets its clinicians see the record
    const { items } = await everything(r, personId, await r.userToken('dr.ward', 'RX1'));
    const enc = items.find((i) => i.resourceType === 'Encounter')!;
    const cond = items.find((i) => i.resourceType === 'Condition') as Condition;
    expect(cond.subject.reference).toBe(`Patient/${personId}`);
    expect(cond.encounter?.reference).toBe(`Encounter/${enc.id}`);
  });

  it('keeps what kind of thing a reference to a clinician or a practice it did not send named', async () => {
    // a GP system names the usual GP first and the practice second, neither in the bundle
    const gpRecord = bundle('transaction', [
      patient('dir-p', '9990000905', {
        generalPractitioner: [
          { reference: 'Practitioner/gp-marsh', display: 'Dr Lena Marsh' },
          { reference: 'Organization/practice-1', display: 'Riverside Surgery' },
        ],
      }),
      condition('dir-c', 'Patient/dir-p', HYPERTENSION, { asserter: { reference: 'Practitioner/gp-marsh' } }),
    ]);
    expect((await postFhir(r, 'gp-riverside', gpRecord)).status).toBe(200);
    const personId = await personIdFor(r, '9990000905');
    const token = await r.userToken('dr.gp', 'Y90001');
    const read = await getAs<Patient>(r, token, `/fhir/Patient/${personId}`);
    expect(read.body.generalPractitioner).toEqual([
      { type: 'Practitioner', display: 'Dr Lena Marsh' },
      { type: 'Organization', display: 'Riverside Surgery' },
    ]);
    // the banner shows the practice as the practice and the clinician as the usual GP
    expect(generalPractitioners(read.body)).toEqual({
      practice: 'Riverside Surgery',
      usualGp: 'Dr Lena Marsh',
    });
    const { items } = await everything(r, personId, token);
    expect((items[0] as Condition).asserter).toEqual({
      type: 'Practitioner',
      display: 'Practitioner gp-marsh',
    });
  });

  it('shows a death the hospital reports though the GP record, the best source, does not say it', async () => {
    expect(
      (await postFhir(r, 'gp-riverside', bundle('batch', [patient('dead-gp', '9990000948')]))).status,
    ).toBe(200);
    const died = patient('dead-rx', '9990000948', { deceasedDateTime: '2026-12-06T03:10:00+00:00' });
    expect((await postFhir(r, 'northgate-pas', bundle('batch', [died]))).status).toBe(200);
    const token = await r.userToken('dr.gp', 'Y90001');
    const read = await getAs<Patient>(r, token, `/fhir/Patient/${await personIdFor(r, '9990000948')}`);
    expect(read.body.deceasedDateTime).toBe('2026-12-06T03:10:00+00:00');
    expect(read.body.name?.[0]?.family).toBe('Testperson');
  });

  it('shows the next of kin, ethnicity and interpreter need the GP sends, never birth sex or gender identity', async () => {
    const ukCore = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-';
    const ethnicity = {
      url: `${ukCore}EthnicCategory`,
      valueCodeableConcept: {
        coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategory', code: 'A' }],
      },
    };
    const interpreter = {
      url: `${ukCore}NHSCommunication`,
      extension: [
        {
          url: 'language',
          valueCodeableConcept: {
            coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage', code: 'pl' }],
          },
        },
        { url: 'interpreterRequired', valueBoolean: true },
      ],
    };
    // an extension nested in an allowed one is not the allowed one's own part
    const nestedIdentity = {
      url: 'http://hl7.org/fhir/StructureDefinition/patient-genderIdentity',
      valueCodeableConcept: { text: 'transgender woman' },
    };
    const nextOfKin = {
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'N' }] }],
      name: { family: 'Jackson', given: ['Jane'] },
      telecom: [{ system: 'phone', value: '07777123123', use: 'mobile' }],
    };
    const told = (nhs: string, extra: Record<string, unknown>) =>
      patient(`kin-${nhs}`, nhs, {
        contact: [nextOfKin],
        multipleBirthInteger: 2,
        extension: [
          ethnicity,
          { ...interpreter, extension: [...interpreter.extension, nestedIdentity] },
          { url: `${ukCore}BirthSex`, valueCode: 'M' },
          {
            url: 'http://hl7.org/fhir/StructureDefinition/patient-genderIdentity',
            valueCodeableConcept: { text: 'transgender female' },
          },
          { url: 'https://example.nhs.uk/local-flag', valueString: 'local' },
        ],
        ...extra,
      });
    expect((await postFhir(r, 'gp-riverside', bundle('batch', [told('9990003106', {})]))).status).toBe(200);
    const token = await r.userToken('dr.gp', 'Y90001');
    const read = await getAs<Patient>(r, token, `/fhir/Patient/${await personIdFor(r, '9990003106')}`);
    expect(read.body.contact).toEqual([nextOfKin]);
    expect(read.body.multipleBirthInteger).toBe(2);
    const urls = (read.body.extension ?? []).map((e) => e.url);
    expect(read.body.extension).toEqual(expect.arrayContaining([ethnicity, interpreter]));
    expect(urls.filter((u) => /BirthSex|genderIdentity|local-flag/.test(u))).toEqual([]);
    expect(read.text).not.toContain('transgender');

    // a person whose address is restricted (the S flag) has the contacts hidden with it
    const restricted = told('9990003114', {
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
      extension: [
        ethnicity,
        {
          url: `${ukCore}NominatedPharmacy`,
          valueReference: { display: 'Corner Pharmacy, 3 Secret St, LS1 1AA' },
        },
        {
          url: `${ukCore}ContactPreference`,
          extension: [{ url: 'PreferredContactTimes', valueString: 'evenings at 1 Secret St' }],
        },
      ],
    });
    expect((await postFhir(r, 'gp-riverside', bundle('batch', [restricted]))).status).toBe(200);
    const hidden = await getAs<Patient>(r, token, `/fhir/Patient/${await personIdFor(r, '9990003114')}`);
    expect(hidden.status).toBe(200);
    expect(hidden.body.contact).toBeUndefined();
    expect(hidden.body.address).toBeUndefined();
    // and so are the extensions that say where the person is reached: the pharmacy, contact times
    expect(hidden.text).not.toMatch(/NominatedPharmacy|ContactPreference|Secret St/);
    expect(hidden.body.extension).toEqual(expect.arrayContaining([ethnicity]));
  });

  it('takes a pointer that names its patient by NHS number alone (the NRL shape), and refuses one for nobody the source knows', async () => {
    const pointer = (id: string, nhs: string) =>
      ({
        resourceType: 'DocumentReference',
        id,
        status: 'current',
        type: {
          coding: [
            { system: 'http://snomed.info/sct', code: '736253002', display: 'Mental health crisis plan' },
          ],
        },
        subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhs } },
        date: '2024-05-01T10:00:00+00:00',
        content: [{ attachment: { contentType: 'application/pdf', url: 'https://example.org/plan.pdf' } }],
      }) as Resource;
    const token = await r.userToken('dr.gp', 'Y90001');
    // the source sent the patient before
    expect(
      (await postFhir(r, 'gp-riverside', bundle('batch', [patient('nrl-p', '9990003300')]))).status,
    ).toBe(200);
    const later = await postFhir(r, 'gp-riverside', bundle('batch', [pointer('nrl-d1', '9990003300')]));
    expect(later.status, later.text).toBe(200);
    const first = await personIdFor(r, '9990003300');
    const shown = (await everything(r, first, token)).items;
    expect(shown.map((i) => i.resourceType)).toEqual(['DocumentReference']);
    expect((shown[0] as { subject?: { reference?: string } }).subject?.reference).toBe(`Patient/${first}`);
    // in the same request as the patient
    const together = bundle('batch', [patient('nrl-q', '9990003319'), pointer('nrl-d2', '9990003319')]);
    expect((await postFhir(r, 'gp-riverside', together)).status).toBe(200);
    expect((await everything(r, await personIdFor(r, '9990003319'), token)).items).toHaveLength(1);
    // a number this source has sent no record of is still refused, naming the element
    const unknown = await postFhir(r, 'gp-riverside', bundle('batch', [pointer('nrl-d3', '9990003327')]));
    expect(unknown.status).toBe(422);
    expect(unknown.text).toContain('subject');
  });

  it('lets the practice a hospital names by the national directory’s URL open the record', async () => {
    const gp = { reference: 'https://directory.spineservices.nhs.uk/STU3/Organization/Y90001' };
    const sent = bundle('batch', [
      patient('gp-url', '9990000956', { generalPractitioner: [gp] }),
      condition('gp-url-c', 'Patient/gp-url', HYPERTENSION),
    ]);
    expect((await postFhir(r, 'northgate-pas', sent)).status).toBe(200);
    const personId = await personIdFor(r, '9990000956');
    const { items } = await everything(r, personId, await r.userToken('dr.gp', 'Y90001'));
    expect(items.map((i) => i.resourceType)).toEqual(['Condition']);
  });

  it('resolves a conditional reference to a patient the same transaction sends', async () => {
    const sent = bundle('transaction', [
      patient('cond-p', '9990000131'),
      observation('cond-o', 'Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000131', 7),
    ]);
    const res = await postFhir(r, 'gp-riverside', sent);
    expect(res.status, res.text).toBe(200);
    const personId = await personIdFor(r, '9990000131');
    const { items } = await everything(r, personId);
    expect((items[0] as Observation).subject?.reference).toBe(`Patient/${personId}`);
  });

  it('stores the same content once when it is sent twice', async () => {
    const b = bundle('batch', [patient('idem', '9990000085'), observation('idem-o', 'Patient/idem', 40)]);
    await postFhir(r, 'gp-riverside', b);
    const before = await count(r, 'clinical_item');
    const again = await postFhir(r, 'gp-riverside', b);
    expect(again.body.entry?.map((e) => e.response?.outcome?.issue?.[0]?.diagnostics)).toEqual([
      'Bundle.entry[0]: unchanged (nhs-number)',
      'Bundle.entry[1]: unchanged',
    ]);
    expect(await count(r, 'clinical_item')).toBe(before);
    expect((await everything(r, await personIdFor(r, '9990000085'))).items).toHaveLength(1);
  });

  it('replaces an item with a newer version, keeps the history, and ignores an older one', async () => {
    const v1 = observation('ver-o', 'Patient/ver', 60, '2022-01-01', {
      meta: { versionId: '1', lastUpdated: '2022-01-02T00:00:00Z' },
    });
    const v2 = observation('ver-o', 'Patient/ver', 55, '2022-01-01', {
      meta: { versionId: '2', lastUpdated: '2022-02-02T00:00:00Z' },
    });
    await postFhir(r, 'gp-riverside', bundle('batch', [patient('ver', '9990000093'), v1]));
    const updated = await postFhir(r, 'gp-riverside', bundle('batch', [v2]));
    expect(updated.body.entry?.[0]?.response?.location).toMatch(/_history\/2$/);
    const personId = await personIdFor(r, '9990000093');
    let { items } = await everything(r, personId);
    expect(items).toHaveLength(1);
    expect((items[0] as Observation).valueQuantity?.value).toBe(55);
    expect(items[0]!.meta?.versionId).toBe('2');
    expect(provenanceOf(items[0]!).sourceVersion).toBe('2');

    const stale = await postFhir(r, 'gp-riverside', bundle('batch', [v1]));
    expect(stale.body.entry?.[0]?.response?.outcome?.issue?.[0]?.diagnostics).toContain('stale');
    ({ items } = await everything(r, personId));
    expect((items[0] as Observation).valueQuantity?.value).toBe(55);
    const { rows } = await r.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM clinical_item_version WHERE id = $1',
      [items[0]!.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('removes an item from the view on entered-in-error and on a DELETE entry, keeping history', async () => {
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('del', '9990000107'),
        observation('del-1', 'Patient/del', 1),
        observation('del-2', 'Patient/del', 2),
      ]),
    );
    const personId = await personIdFor(r, '9990000107');
    expect((await everything(r, personId)).items).toHaveLength(2);

    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [observation('del-1', 'Patient/del', 1, '2022-04-15', { status: 'entered-in-error' })]),
    );
    const del: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'DELETE', url: 'Observation/del-2' } }],
    };
    const res = await postFhir(r, 'gp-riverside', del);
    expect(res.body.entry?.[0]?.response?.status).toBe('204 No Content');
    expect((await everything(r, personId)).items).toHaveLength(0);
    const { rows } = await r.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM clinical_item_version WHERE person_id = $1',
      [personId],
    );
    expect(rows[0]!.n).toBe(2);

    // a DELETE of the Patient is not taken, and the sender is told what to do instead
    await postFhir(r, 'gp-riverside', bundle('batch', [observation('del-3', 'Patient/del', 3)]));
    const gone = await postFhir(r, 'gp-riverside', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'DELETE', url: 'Patient/del' } }],
    } as Bundle);
    expect(gone.status).toBe(200);
    const said = gone.body.entry?.[0]?.response?.outcome?.issue?.[0]?.diagnostics;
    expect(said).toContain('a Patient is not deleted by a feed');
    expect(said).not.toContain('not part of the shared care record');
    expect((await everything(r, personId)).items).toHaveLength(1);
  });

  it('removes a goal its source marks entered in error (a Goal’s status is its lifecycleStatus)', async () => {
    const goal = (lifecycleStatus: string) =>
      ({
        resourceType: 'Goal',
        id: 'goal-1',
        lifecycleStatus,
        description: { text: 'Reduce blood pressure below 140/90' },
        subject: { reference: 'Patient/goal-p' },
      }) as Resource;
    await postFhir(r, 'gp-riverside', bundle('batch', [patient('goal-p', '9990000980'), goal('active')]));
    const personId = await personIdFor(r, '9990000980');
    expect((await everything(r, personId)).items.map((i) => i.resourceType)).toEqual(['Goal']);
    const res = await postFhir(r, 'gp-riverside', bundle('batch', [goal('entered-in-error')]));
    expect(res.body.entry?.[0]?.response?.outcome?.issue?.[0]?.diagnostics).toContain('deleted');
    expect((await everything(r, personId)).items).toEqual([]);
  });

  it('refuses an entry whose fullUrl or PUT url names another resource than it carries, storing nothing', async () => {
    const before = [await count(r, 'clinical_item'), await count(r, 'person'), await count(r, 'person_link')];
    const base = 'https://gp.example/fhir';
    const entries = [
      // the fullUrl says Patient/mix-a, the resource is Patient/mix-b (another NHS number)
      {
        fullUrl: `${base}/Patient/mix-a`,
        resource: patient('mix-b', '9990000115'),
        request: { method: 'POST', url: 'Patient' },
      },
      {
        fullUrl: `${base}/Observation/mix-o`,
        resource: observation('mix-o', `${base}/Patient/mix-a`, 1),
        request: { method: 'POST', url: 'Observation' },
      },
      // a PUT to one id carrying another
      {
        resource: observation('mix-o2', 'Patient/mix-b', 2),
        request: { method: 'PUT', url: 'Observation/mix-o3' },
      },
    ];
    const res = await postFhir(r, 'gp-riverside', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: entries,
    } as Bundle);
    expect(res.status).toBe(422);
    expect(res.body.issue?.map((i) => [i.expression?.[0], i.diagnostics])).toEqual([
      [
        'Bundle.entry[0].fullUrl',
        'fullUrl names Patient/mix-a but the resource is Patient/mix-b; they must name the same resource',
      ],
      [
        'Bundle.entry[2].request.url',
        'request.url names Observation/mix-o3 but the resource is Observation/mix-o2; they must name the same resource',
      ],
    ]);
    expect([
      await count(r, 'clinical_item'),
      await count(r, 'person'),
      await count(r, 'person_link'),
    ]).toEqual(before);
  });

  it('refuses a date the calendar does not have, and takes 29 February of a leap year', async () => {
    const before = await count(r, 'clinical_item');
    const res = await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('cal-p', '9990000115', { birthDate: '1960-02-30' }),
        observation('cal-o1', 'Patient/cal-p', 1, '2023-02-29T10:00:00Z'),
        observation('cal-o2', 'Patient/cal-p', 2, '2024-04-31'),
      ]),
    );
    expect(res.status).toBe(422);
    expect(res.body.issue?.map((i) => i.expression?.[0])).toEqual([
      'Bundle.entry[0].resource.birthDate',
      'Bundle.entry[1].resource.effectiveDateTime',
      'Bundle.entry[2].resource.effectiveDateTime',
    ]);
    expect(res.body.issue?.[0]?.diagnostics).toMatch(/no such day/);
    expect(await count(r, 'clinical_item')).toBe(before);
    const leap = bundle('batch', [
      patient('cal-p', '9990000115'),
      observation('cal-o3', 'Patient/cal-p', 3, '2024-02-29'),
    ]);
    expect((await postFhir(r, 'gp-riverside', leap)).status).toBe(200);
  });

  it('takes FHIR JSON as UTF-8 only: another charset, bytes that are not UTF-8 or a compressed body are refused', async () => {
    const before = await count(r, 'person_link');
    const text = JSON.stringify(
      bundle('batch', [patient('enc-p', '9990000123', { name: [{ family: 'Müller', given: ['José'] }] })]),
    );
    const send = async (payload: Buffer, headers: Record<string, string>) => {
      const res = await r.app.server.inject({
        method: 'POST',
        url: '/ingest/fhir',
        headers: { authorization: `Bearer ${await r.sourceToken('gp-riverside')}`, ...headers },
        payload,
      });
      return { status: res.statusCode, text: res.body };
    };
    const latin1 = await send(Buffer.from(text, 'latin1'), {
      'content-type': 'application/fhir+json; charset=ISO-8859-1',
    });
    expect(latin1.status).toBe(415);
    expect(latin1.text).toMatch(/FHIR JSON is UTF-8/);
    // the same Latin-1 bytes, said to be UTF-8: not stored as "M\uFFFDller"
    const mislabelled = await send(Buffer.from(text, 'latin1'), { 'content-type': 'application/fhir+json' });
    expect(mislabelled.status).toBe(400);
    expect(mislabelled.text).toMatch(/not valid UTF-8/);
    const gzipped = await send(gzipSync(text), {
      'content-type': 'application/fhir+json',
      'content-encoding': 'gzip',
    });
    expect(gzipped.status).toBe(415);
    expect(gzipped.text).toMatch(/uncompressed/);
    const stu3 = await send(Buffer.from(text), { 'content-type': 'application/fhir+json; fhirVersion=3.0' });
    expect(stu3.status).toBe(415);
    expect(stu3.text).toMatch(/FHIR R4/);
    expect(await count(r, 'person_link')).toBe(before);
    // UTF-8 with a byte-order mark is taken, the names as sent
    const bom = await send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]), {
      'content-type': 'application/fhir+json; fhirVersion=4.0; charset=utf-8',
    });
    expect(bom.status, bom.text).toBe(200);
    const token = await r.userToken('dr.gp', 'Y90001');
    const read = await getAs<Patient>(r, token, `/fhir/Patient/${await personIdFor(r, '9990000123')}`);
    expect(read.body.name?.[0]?.family).toBe('Müller');
  });

  it('rejects an invalid resource with an OperationOutcome naming the entry and field, and stores nothing', async () => {
    const before = [await count(r, 'clinical_item'), await count(r, 'person'), await count(r, 'person_link')];
    const bad = bundle('transaction', [
      patient('bad-p', '9990000115'),
      observation('bad-o1', 'Patient/bad-p', 1),
      observation('bad-o2', 'Patient/bad-p', 2, '2022-13-45'),
      {
        resourceType: 'Condition',
        id: 'bad-c',
        subject: { reference: 'Patient/bad-p' },
        code: { text: 'x' },
        bogus: true,
      } as unknown as Resource,
    ]);
    const res = await postFhir(r, 'gp-riverside', bad);
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const where = res.body.issue!.flatMap((i) => i.expression ?? []);
    expect(where.some((w) => w.startsWith('Bundle.entry[2].resource.effective'))).toBe(true);
    expect(where).toContain('Bundle.entry[3].resource.bogus');
    expect([
      await count(r, 'clinical_item'),
      await count(r, 'person'),
      await count(r, 'person_link'),
    ]).toEqual(before);
  });

  it.each([
    ['not JSON', '{"resourceType": "Bundle", ', 'application/fhir+json', 400],
    [
      'a searchset bundle',
      JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }),
      'application/fhir+json',
      422,
    ],
    [
      'NDJSON with a broken line',
      `${JSON.stringify(patient('x1', NHS_B))}\n{oops`,
      'application/fhir+ndjson',
      422,
    ],
    [
      'an item whose patient was never sent',
      JSON.stringify(bundle('batch', [observation('orph', 'Patient/nobody', 1)])),
      'application/fhir+json',
      422,
    ],
    ['an unsupported media type', 'MSH|^~\\&|', 'text/plain', 415],
  ])('rejects %s and stores nothing', async (_what, payload, contentType, status) => {
    const before = [await count(r, 'clinical_item'), await count(r, 'person')];
    const res = await postFhir(r, 'gp-riverside', payload, contentType);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect([await count(r, 'clinical_item'), await count(r, 'person')]).toEqual(before);
  });

  it('refuses a missing or forged token, a user token, and an unregistered source', async () => {
    const payload = JSON.stringify(bundle('batch', [patient('auth', NHS_B)]));
    const send = (authorization?: string) =>
      r.app.server.inject({
        method: 'POST',
        url: '/ingest/fhir',
        headers: { 'content-type': 'application/fhir+json', ...(authorization ? { authorization } : {}) },
        payload,
      });
    expect((await send()).statusCode).toBe(401);
    // Change a character in the middle of the signature (the last one may only carry padding bits).
    const token = await r.sourceToken('gp-riverside');
    const at = token.lastIndexOf('.') + 10;
    const forged = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
    expect((await send(`Bearer ${forged}`)).statusCode).toBe(401);
    expect((await send(`Bearer ${await r.userToken('u', 'RX1')}`)).statusCode).toBe(403);
    expect((await send(`Bearer ${await r.sourceToken('no-such-source')}`)).statusCode).toBe(403);
  });
});
