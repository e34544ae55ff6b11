/**
 * The privacy policy beyond code lists: organisations and services whose every item is sensitive,
 * items linked to withheld items, reason codes in the audit trail, and restricted persons.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicy } from '../src/policy/index.ts';
import { DB_KINDS, startRegion, testConfig, type TestRegion } from './kit.ts';
import { bundle, condition, HIV, HYPERTENSION, observation, patient, prescription } from './fhir-data.ts';
import { everything, getAs, personIdFor, postFhir } from './http.ts';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SCT = 'http://snomed.info/sct';
/** a sexual health service code of the region's own (a local clinic code list) */
const GUM_CLINIC = { system: 'https://northgate.example/clinic', code: 'GUM1', display: 'GUM clinic' };
const HIV_TEST = { system: SCT, code: '31676001', display: 'HIV antigen test' };

function extraCodeList(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-policy-'));
  const file = path.join(dir, 'services.csv');
  writeFileSync(
    file,
    [
      'category,system,code,display,match',
      // an organisation whose every item is sensitive, named by its ODS code
      'sexual_health,ods,LAB01,Private sexual health lab,exact',
      // a clinic of the hospital, by its local code
      `sexual_health,${GUM_CLINIC.system},${GUM_CLINIC.code},${GUM_CLINIC.display},exact`,
      `hiv_aids,${HIV_TEST.system},${HIV_TEST.code},${HIV_TEST.display},exact`,
      // a spreadsheet-mangled ODS code is reported and skipped, not half-matched
      'sexual_health,ods,1.2E+05,mangled,exact',
    ].join('\n'),
  );
  return file;
}

describe.each(DB_KINDS)('the privacy policy on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  let items: Resource[];

  beforeAll(async () => {
    r = await startRegion(kind, {
      sensitiveCodeLists: [...testConfig().sensitiveCodeLists, extraCodeList()],
    });
    const P = 'Patient/p1';
    const enc = (id: string, serviceType?: typeof GUM_CLINIC): Resource =>
      ({
        resourceType: 'Encounter',
        id,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        ...(serviceType ? { serviceType: { coding: [serviceType] } } : {}),
        subject: { reference: P },
        period: { start: '2024-02-01T10:00:00Z' },
      }) as Resource;
    const gp: Resource[] = [
      patient('p1', '9990000018'),
      // an ordinary consultation at which HIV was diagnosed, and hypertension too
      enc('consult'),
      condition('hiv', P, HIV, { encounter: { reference: 'Encounter/consult' } }),
      condition('htn', P, HYPERTENSION, { encounter: { reference: 'Encounter/consult' } }),
      // treatment whose reason is the withheld diagnosis (its name alone reveals nothing: an
      // antiretroviral's would, see test/sensitive-shapes.test.ts)
      {
        resourceType: 'MedicationRequest',
        id: 'arv',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { text: 'Co-trimoxazole 480mg tablets' },
        subject: { reference: P },
        reasonReference: [{ reference: 'Condition/hiv' }],
        authoredOn: '2024-02-01',
      } as Resource,
      {
        resourceType: 'MedicationRequest',
        id: 'ramipril',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { text: 'Ramipril 2.5mg capsules' },
        subject: { reference: P },
        reasonReference: [{ reference: 'Condition/htn' }],
        authoredOn: '2024-02-01',
      } as Resource,
      // a referral naming the sensitive organisation
      {
        resourceType: 'ServiceRequest',
        id: 'ref-lab',
        status: 'active',
        intent: 'order',
        code: { text: 'Screening' },
        subject: { reference: P },
        performer: [{ reference: 'Organization/lab' }],
        authoredOn: '2024-03-01',
      } as Resource,
      // the same organisation named by the national directory's URL, and by a conditional reference
      ...[
        'https://directory.spineservices.nhs.uk/STU3/Organization/LAB01',
        `Organization?identifier=${ODS}|LAB01`,
      ].map(
        (reference, i) =>
          ({
            resourceType: 'ServiceRequest',
            id: `ref-lab-${i}`,
            status: 'active',
            intent: 'order',
            code: { text: 'Screening' },
            subject: { reference: P },
            performer: [{ reference }],
            authoredOn: '2024-03-01',
          }) as Resource,
      ),
      {
        resourceType: 'Organization',
        id: 'lab',
        name: 'Private Lab',
        identifier: [{ system: ODS, value: 'LAB01' }],
      } as Resource,
      // an HIV test order, its report and results (results carry ordinary codes)
      {
        resourceType: 'ServiceRequest',
        id: 'hiv-order',
        status: 'completed',
        intent: 'order',
        code: { coding: [HIV_TEST] },
        subject: { reference: P },
        authoredOn: '2024-01-10',
      } as Resource,
      {
        resourceType: 'DiagnosticReport',
        id: 'hiv-report',
        status: 'final',
        code: { coding: [HIV_TEST] },
        subject: { reference: P },
        effectiveDateTime: '2024-01-12',
        result: [{ reference: 'Observation/cd4' }],
      } as Resource,
      observation('cd4', P, 350, '2024-01-12', { code: { text: 'CD4 count' } }),
      observation('hba1c', P, 48, '2024-01-12'),
      // a sexual health clinic attendance at the hospital's GUM clinic and what was measured there
      enc('gum-visit', GUM_CLINIC),
      // another visit there, which what was recorded names by its visit number only
      {
        ...enc('gum-visit-2', GUM_CLINIC),
        identifier: [{ system: 'https://northgate.example/visit', value: 'GUMV2' }],
      } as Resource,
      observation('bp-at-gum-2', P, 121, '2024-02-02', {
        code: { text: 'Blood pressure' },
        encounter: { reference: 'Encounter?identifier=https://northgate.example/visit|GUMV2' },
      }),
      observation('bp-at-gum-3', P, 122, '2024-02-02', {
        code: { text: 'Blood pressure' },
        encounter: {
          type: 'Encounter',
          identifier: { system: 'https://northgate.example/visit', value: 'GUMV2' },
        },
      }),
      observation('bp-at-gum', P, 120, '2024-02-01', {
        code: { text: 'Blood pressure' },
        encounter: { reference: 'Encounter/gum-visit' },
      }),
    ];
    expect((await postFhir(r, 'gp-riverside', bundle('batch', gp))).status).toBe(200);
    // from the organisation whose every item is sensitive, with ordinary codes
    const lab = await postFhir(
      r,
      'private-lab',
      bundle('batch', [patient('l1', '9990000018'), observation('lab-glucose', 'Patient/l1', 5.1)]),
    );
    expect(lab.status).toBe(200);
    personId = await personIdFor(r, '9990000018');
    items = (await everything(r, personId)).items;
  });
  afterAll(async () => r?.drop());

  const shown = () => JSON.stringify(items);

  it('withholds everything from an organisation on the list, and anything that names it', () => {
    expect(shown()).not.toContain('Private Lab');
    expect(items.some((i) => i.resourceType === 'ServiceRequest' && shown().includes('Screening'))).toBe(
      false,
    );
    expect(items.filter((i) => i.meta?.tag?.some((t) => t.code === 'LAB01'))).toEqual([]);
  });

  it('answers a search for someone known only to a never-shared organisation as for no one', async () => {
    const onlyThere = await postFhir(r, 'private-lab', bundle('batch', [patient('l2', '9990000964')]));
    expect(onlyThere.status).toBe(200);
    const search = async (nhs: string) => {
      const res = await getAs<Bundle>(
        r,
        await r.userToken('dr.ward', 'RX1'),
        `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`,
      );
      return { status: res.status, total: res.body.total, entries: res.body.entry?.length ?? 0 };
    };
    // 9990000972 names no one in the region
    expect(await search('9990000964')).toEqual(await search('9990000972'));
    expect((await search('9990000964')).total).toBe(0);
  });

  it('withholds what a later request records at a sensitive clinic visit it names by visit number only', async () => {
    const visit = { system: 'https://northgate.example/visit', value: 'GUMV2' };
    const later = [
      observation('bp-later-1', 'Patient/p1', 131, '2024-02-03', {
        code: { text: 'Pulse later' },
        encounter: { type: 'Encounter', identifier: visit },
      }),
      observation('bp-later-2', 'Patient/p1', 132, '2024-02-03', {
        code: { text: 'Pulse later' },
        encounter: { reference: `Encounter?identifier=${visit.system}|${visit.value}` },
      }),
      // without a type: an identifier of this source's items of any type
      observation('bp-later-4', 'Patient/p1', 134, '2024-02-03', {
        code: { text: 'Pulse later' },
        encounter: { identifier: visit },
      }),
      // a urn:uuid the request does not carry (the sender's own for the visit), with the visit number
      observation('bp-later-5', 'Patient/p1', 135, '2024-02-03', {
        code: { text: 'Pulse later' },
        encounter: { reference: 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000002', identifier: visit },
      }),
      // an id the source never sent (another export's), a server of the sender's own, a urn in
      // capitals: each with the visit number, which names the visit
      ...[
        'Encounter/not-sent-here',
        'https://sender.example/fhir/Encounter/zzz',
        'URN:UUID:6F1C2D3E-0000-4000-8000-000000000003',
      ].map((reference, k) =>
        observation(`bp-later-${6 + k}`, 'Patient/p1', 136 + k, '2024-02-03', {
          code: { text: 'Pulse later' },
          encounter: { reference, identifier: visit },
        }),
      ),
      observation('bp-later-3', 'Patient/p1', 133, '2024-02-03', { code: { text: 'Weight later' } }),
    ];
    expect((await postFhir(r, 'gp-riverside', bundle('batch', later))).status).toBe(200);
    const now = JSON.stringify((await everything(r, personId)).items);
    expect(now).toContain('Weight later');
    expect(now).not.toContain('Pulse later');
  });

  it('links an item naming a condition by identifier to the live one, not to one the source deleted', async () => {
    const nhs = '9990005001';
    const cond = (id: string, code: typeof HIV) =>
      condition(id, 'Patient/pd', code, {
        identifier: [{ system: 'https://northgate.example/problem', value: 'PR-9' }],
      });
    // the deleted one's id sorts after the live one's: read last, it was the one taken before
    // deleted items were left out
    const sent = [patient('pd', nhs), cond('pd-hiv', HIV), cond('pd-earlier', HYPERTENSION)];
    expect((await postFhir(r, 'gp-riverside', bundle('batch', sent))).status).toBe(200);
    const gone = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'DELETE', url: 'Condition/pd-earlier' } }],
    };
    expect((await postFhir(r, 'gp-riverside', gone as Bundle)).status).toBe(200);
    const reason = {
      type: 'Condition',
      identifier: { system: 'https://northgate.example/problem', value: 'PR-9' },
    };
    const given = prescription('pd-mr', 'Patient/pd', 'Co-trimoxazole 480mg tablets', reason);
    expect((await postFhir(r, 'gp-riverside', bundle('batch', [given]))).status).toBe(200);
    expect(JSON.stringify((await everything(r, await personIdFor(r, nhs))).items)).not.toContain(
      'Co-trimoxazole',
    );
  });

  it('does not link an item to another person’s item of the same request that carries the identifier it names', async () => {
    const [a, b] = ['9990005028', '9990005036'];
    const problem = { system: 'https://northgate.example/problem', value: 'C-7' };
    const first = [patient('pa', a), condition('pa-hiv', 'Patient/pa', HIV, { identifier: [problem] })];
    expect((await postFhir(r, 'gp-riverside', bundle('batch', first))).status).toBe(200);
    const second = [
      patient('pb', b),
      condition('pb-htn', 'Patient/pb', HYPERTENSION, { identifier: [problem] }),
      prescription('pa-mr', 'Patient/pa', 'Co-amoxiclav course review', {
        reference: 'urn:uuid:0b5f3c1e-1111-4222-8333-444455556666',
        identifier: problem,
      }),
    ];
    expect((await postFhir(r, 'gp-riverside', bundle('batch', second))).status).toBe(200);
    // A's prescription is linked to A's own withheld condition, not to B's hypertension
    expect(JSON.stringify((await everything(r, await personIdFor(r, a))).items)).not.toContain(
      'Co-amoxiclav',
    );
  });

  it('does not take another person’s visit for the one an item names by visit number', async () => {
    const visit = { system: 'https://northgate.example/visit', value: 'GUMV2' };
    const sent = [
      patient('p9', '9990003408'),
      // the same visit number as p1's sexual-health visit, on another person's record
      observation('p9-pulse', 'Patient/p9', 71, '2024-02-03', {
        code: { text: 'Pulse of another person' },
        encounter: { type: 'Encounter', identifier: visit },
      }),
      // p1's item in the same request names something by identifier too, so both are looked up
      observation('p1-weight', 'Patient/p1', 70, '2024-02-03', {
        code: { text: 'Weight again' },
        basedOn: [
          { type: 'ServiceRequest', identifier: { system: 'https://northgate.example/order', value: 'O1' } },
        ],
      }),
    ];
    expect((await postFhir(r, 'gp-riverside', bundle('batch', sent))).status).toBe(200);
    const [pulse] = (await everything(r, await personIdFor(r, '9990003408'))).items as Observation[];
    expect(pulse?.code.text).toBe('Pulse of another person');
    // it keeps the visit as sent: not linked to p1's visit, and so not cut at read
    expect(pulse?.encounter).toEqual({ type: 'Encounter', identifier: visit });
  });

  it('leaves out a contact of the Patient that names a never-shared organisation, and keeps the others', async () => {
    const kin = { relationship: [{ text: 'Mother' }], name: { family: 'Jackson', given: ['Jane'] } };
    const viaLab = [
      { organization: { display: 'Private Lab', reference: 'Organization/LAB01' } },
      { name: { text: 'Duty nurse' }, organization: { identifier: { value: 'LAB01' } } },
      {
        name: { text: 'Results line' },
        telecom: [{ system: 'phone', value: '0113 496 0000' }],
        organization: { display: 'Private Lab' },
      },
      // other spellings of the same organisation
      { organization: { display: 'PRIVATE LAB' } },
      { organization: { display: 'private lab clinic' } },
      { organization: { identifier: { system: ODS, value: 'lab01 ' } } },
      { name: { text: 'Key worker' }, address: { line: ['c/o LAB01, Riverside'] } },
    ];
    const preference = {
      url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference',
      extension: [{ url: 'PreferredContactTimes', valueString: 'Ring the private Lab after 5' }],
    };
    const sent = patient('kin-1', '9990003122', { contact: [...viaLab, kin], extension: [preference] });
    expect((await postFhir(r, 'gp-riverside', bundle('batch', [sent]))).status).toBe(200);
    const read = await getAs<Patient>(
      r,
      await r.userToken('dr.reader', 'Y90001'),
      `/fhir/Patient/${await personIdFor(r, '9990003122')}`,
    );
    expect(read.status).toBe(200);
    expect(read.body.contact).toEqual([kin]);
    expect(JSON.stringify(read.body).toLowerCase()).not.toContain('private lab');
  });

  it('withholds what happened at a sensitive clinic, and what was recorded there', () => {
    expect(shown()).not.toContain('GUM clinic');
    expect(shown()).not.toContain('Blood pressure');
  });

  it('withholds a withheld test’s report and results, and treatment for a withheld diagnosis', () => {
    expect(shown()).not.toContain('CD4 count');
    expect(shown()).not.toContain(HIV_TEST.code);
    expect(shown()).not.toContain('Co-trimoxazole');
    expect(shown()).not.toContain(HIV.code);
  });

  it('keeps the rest of the consultation: another diagnosis made then, and its treatment', () => {
    expect(shown()).toContain(HYPERTENSION.code);
    expect(shown()).toContain('Ramipril');
    expect(items.some((i) => i.resourceType === 'Encounter')).toBe(true);
    expect(shown()).toContain('HbA1c');
  });

  it('withholds them on every read path: section searches too', async () => {
    const token = await r.userToken('dr.reader', 'Y90001');
    for (const type of [
      'Observation',
      'MedicationRequest',
      'ServiceRequest',
      'DiagnosticReport',
      'Encounter',
      'Condition',
    ]) {
      const res = await getAs<Bundle>(r, token, `/fhir/${type}?patient=${personId}`);
      expect(res.status).toBe(200);
      for (const hidden of [
        'CD4 count',
        'Co-trimoxazole',
        'GUM clinic',
        'Blood pressure',
        'Screening',
        HIV.code,
        HIV_TEST.code,
      ])
        expect(res.text).not.toContain(hidden);
    }
  });

  it('withholds a result that arrives later, based on a withheld order', async () => {
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('p1', '9990000018'),
        observation('viral-load', 'Patient/p1', 20, '2024-01-13', {
          code: { text: 'Viral load' },
          basedOn: [{ reference: 'ServiceRequest/hiv-order' }],
        }),
      ]),
    );
    const now = (await everything(r, personId)).items;
    expect(JSON.stringify(now)).not.toContain('Viral load');
  });

  it('releases linked items when the withheld item is entered in error', async () => {
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [
        patient('p1', '9990000018'),
        condition('hiv', 'Patient/p1', HIV, {
          verificationStatus: {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
                code: 'entered-in-error',
              },
            ],
          },
        }),
      ]),
    );
    const now = JSON.stringify((await everything(r, personId)).items);
    expect(now).toContain('Co-trimoxazole');
    expect(now).not.toContain(HIV.code);
    expect(now).not.toContain('CD4 count'); // still withheld: its report is a withheld test
  });

  it('records why, as reason codes the data protection officer sees, never the category', async () => {
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE action = 'record.open' AND person_id = $1 ORDER BY seq DESC LIMIT 1`,
      [personId],
    );
    const event = JSON.parse(rows[0]!.event) as { reasons: string[] };
    expect(event.reasons).toEqual(expect.arrayContaining(['withheld-sensitive', 'withheld-linked']));
    expect(rows[0]!.event).not.toMatch(/hiv|sexual/i);
  });

  it('reports the spreadsheet-mangled code in the list instead of matching it', () => {
    const policy = createPolicy([extraCodeList()]);
    expect(policy.problems.join('\n')).toMatch(/1\.2E\+05/);
    expect(policy.codeCount).toBe(3);
  });
});

describe.each(DB_KINDS)('a restricted person on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r?.drop());

  it('shows no address or telephone number, and says the person is restricted', async () => {
    const restricted = patient('rp', '9990000026', {
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
      address: [{ line: ['1 Secret Lane'], postalCode: 'NE1 1AA' }],
      telecom: [{ system: 'phone', value: '0191 000 0000' }],
    });
    await postFhir(r, 'gp-riverside', bundle('batch', [restricted]));
    const id = await personIdFor(r, '9990000026');
    const res = await getAs<Bundle>(
      r,
      await r.userToken('dr.reader', 'Y90001'),
      `/fhir/Patient/${id}/$everything`,
    );
    const p = res.body.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
    expect(p.address).toBeUndefined();
    expect(p.telecom).toBeUndefined();
    expect(p.meta?.security?.[0]?.code).toBe('R');
    expect(res.text).not.toContain('Secret Lane');
    expect(p.name?.[0]?.family).toBe('Testperson');
  });
});
