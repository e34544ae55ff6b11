/**
 * Conditional create: a source that re-sends a transaction (a re-export, a retry after a timeout)
 * makes fresh urn:uuids and ids each time. What stays the same is the identifier it names in
 * `request.ifNoneExist`, so the re-send finds the items it made before instead of doubling the
 * record a clinician reads.
 */
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { HIV, MRN_SYSTEM, patient, patientWithMrn, prescription, putEntry } from './fhir-data.ts';
import { count, everything, personIdFor, postFhir } from './http.ts';

const NHS = '9990000204';
const ID_SYSTEM = 'https://example.nhs.uk/Id/result';

/** One export of the record: every fullUrl and id fresh, as an exporting system makes them. */
function exported(
  opts: { glucose?: number; ifNoneExist?: (value: string, type: string) => string } = {},
): Bundle {
  const condition = opts.ifNoneExist ?? ((value: string) => `identifier=${ID_SYSTEM}|${value}`);
  const ids = { patient: randomUUID(), obs: randomUUID(), condition: randomUUID() };
  const entry = (resource: Resource, ifNoneExist: string): BundleEntry => ({
    fullUrl: `urn:uuid:${resource.id}`,
    resource,
    request: { method: 'POST', url: resource.resourceType, ifNoneExist },
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      entry(
        patient(ids.patient, NHS, {
          identifier: [
            { system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS },
            { system: MRN_SYSTEM, value: 'MRN-204' },
          ],
        }),
        `identifier=${MRN_SYSTEM}|MRN-204`,
      ),
      entry(
        {
          resourceType: 'Observation',
          id: ids.obs,
          identifier: [{ system: ID_SYSTEM, value: 'GLU-1' }],
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '2345-7', display: 'Glucose' }] },
          // by urn:uuid, as most exports do
          subject: { reference: `urn:uuid:${ids.patient}` },
          effectiveDateTime: '2026-11-02T09:00:00Z',
          valueQuantity: { value: opts.glucose ?? 5.4, unit: 'mmol/L' },
        } as Resource,
        condition('GLU-1', 'Observation'),
      ),
      entry(
        {
          resourceType: 'Condition',
          id: ids.condition,
          identifier: [{ system: ID_SYSTEM, value: 'DM-1' }],
          code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes' }] },
          // by the Patient's own (fresh) id, as some exports do
          subject: { reference: `Patient/${ids.patient}` },
        } as Resource,
        condition('DM-1', 'Condition'),
      ),
    ],
  };
}

describe.each(DB_KINDS)('conditional create (ifNoneExist) on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r.drop());

  const shown = async () => {
    const { items } = await everything(r, await personIdFor(r, NHS));
    return items.filter((i) => i.resourceType !== 'Patient');
  };

  it('stores a re-export with fresh ids as the same items, and a changed one as a new version', async () => {
    const first = exported();
    // the Patient's ifNoneExist names its own identifier, which it carries
    const a = await postFhir(r, 'gp-riverside', first);
    expect(a.status, a.text).toBe(200);
    const items = await count(r, 'clinical_item');
    const links = await count(r, 'person_link');
    expect(await shown()).toHaveLength(2);

    const second = exported();
    const b = await postFhir(r, 'gp-riverside', second);
    expect(b.status, b.text).toBe(200);
    expect(b.body.meta?.tag, JSON.stringify(b.body.meta)).toEqual(
      expect.arrayContaining([{ code: 'unchanged', display: '3' }]),
    );
    expect(await count(r, 'clinical_item')).toBe(items);
    expect(await count(r, 'person_link')).toBe(links);

    const corrected = exported({ glucose: 6.1 });
    expect((await postFhir(r, 'gp-riverside', corrected)).status).toBe(200);
    expect(await count(r, 'clinical_item')).toBe(items);
    const now = await shown();
    expect(now).toHaveLength(2);
    const glucose = now.find((i) => i.resourceType === 'Observation') as {
      valueQuantity: { value: number };
      meta: { versionId: string };
    };
    expect(glucose.valueQuantity.value).toBe(6.1);
    expect(glucose.meta.versionId).toBe('2');
    // the Condition named the Patient by its fresh id: still the same person's
    expect(now.find((i) => i.resourceType === 'Condition')).toBeDefined();
  });

  it('takes an identifier without a system, and the "Type?" form some senders write', async () => {
    const before = await count(r, 'clinical_item');
    for (const form of [(v: string) => `identifier=${v}`, (v: string, t: string) => `${t}?identifier=${v}`]) {
      const res = await postFhir(r, 'gp-riverside', exported({ ifNoneExist: form }));
      expect(res.status, res.text).toBe(200);
    }
    expect(await count(r, 'clinical_item')).toBe(before);
    expect(await shown()).toHaveLength(2);
  });

  it('refuses criteria it cannot honour, saying what to send, and stores nothing', async () => {
    const before = await count(r, 'clinical_item');
    for (const [form, says] of [
      [(v: string) => `code=2345-7&identifier=${v}`, /give one identifier=system\|value/],
      [() => 'patient=Patient/1', /give one identifier=system\|value/],
      [() => `identifier=${ID_SYSTEM}|NOT-CARRIED`, /does not carry/],
      [() => 'identifier=', /has no value/],
      [(v: string) => `Patient?identifier=${v}`, /searches Patient, but the entry is a Observation/],
    ] as const) {
      const res = await postFhir(r, 'gp-riverside', exported({ ifNoneExist: form }));
      expect(res.status, res.text).toBe(422);
      const issue = (res.body as unknown as OperationOutcome).issue.find((i) =>
        i.expression?.includes('Bundle.entry[1].request.ifNoneExist'),
      );
      expect(issue?.diagnostics).toMatch(says);
    }
    expect(await count(r, 'clinical_item')).toBe(before);
  });

  // the shapes an adversarial pass found (each failed on the first version of this change)
  const MRN = MRN_SYSTEM;
  const withMrn = patientWithMrn;
  const put = putEntry;
  const post = (res: Resource, ifNoneExist?: string, fullUrl?: string): BundleEntry => ({
    ...(fullUrl ? { fullUrl } : {}),
    resource: res,
    request: { method: 'POST', url: res.resourceType, ...(ifNoneExist ? { ifNoneExist } : {}) },
  });
  const tx = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry });
  const glucose = (id: string, ids: { system: string; value: string }[], subject: string) =>
    ({
      resourceType: 'Observation',
      id,
      identifier: ids,
      status: 'final',
      code: { text: 'Glucose' },
      subject: { reference: subject },
      valueString: '5.4',
    }) as Resource;
  const itemsOf = async (nhs: string) => (await everything(r, await personIdFor(r, nhs))).items;

  it('still withholds what a later request links, by the sender’s id, to a never-shared item it created conditionally', async () => {
    const nhs = '9990000034';
    const hiv = {
      resourceType: 'Condition',
      id: 'hiv-1',
      identifier: [{ system: ID_SYSTEM, value: 'HIV-1' }],
      code: { coding: [HIV] },
      subject: { reference: 'Patient/p1' },
    } as Resource;
    const first = await postFhir(
      r,
      'gp-riverside',
      tx([put(withMrn('p1', nhs, 'M1')), post(hiv, `identifier=${ID_SYSTEM}|HIV-1`)]),
    );
    expect(first.status, first.text).toBe(200);
    const given = prescription('mr-1', 'Patient/p1', 'Paracetamol 500mg tablets', {
      reference: 'Condition/hiv-1',
    });
    expect((await postFhir(r, 'gp-riverside', tx([put(given)]))).status).toBe(200);
    expect((await itemsOf(nhs)).filter((i) => i.resourceType !== 'Patient')).toEqual([]);
  });

  it('refuses two entries of one request naming the same identifier, rather than merging two people', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const res = await postFhir(
      r,
      'gp-riverside',
      tx([
        post(withMrn(a, '9990000107', 'Q2'), `identifier=${MRN}|Q2`, `urn:uuid:${a}`),
        post(withMrn(b, '9990000115', 'Q2'), `identifier=${MRN}|Q2`, `urn:uuid:${b}`),
      ]),
    );
    expect(res.status, res.text).toBe(422);
    expect(res.text).toContain('Bundle.entry[1].request.ifNoneExist');
    expect(res.text).toMatch(/another entry names the same ifNoneExist identifier/);
  });

  it('finds the item whichever of its identifiers a re-send names, and one stored before by its id', async () => {
    const nhs = '9990000050';
    const both = [
      { system: ID_SYSTEM, value: 'ACC-1' },
      { system: 'https://example.nhs.uk/Id/order', value: 'ORD-1' },
    ];
    const sends = [
      // stored by its id, before the source used conditional creates
      post(glucose('stable-1', both, 'Patient/p5')),
      post(glucose(randomUUID(), both, 'Patient/p5'), `identifier=${ID_SYSTEM}|ACC-1`),
      post(glucose(randomUUID(), both, 'Patient/p5'), 'identifier=https://example.nhs.uk/Id/order|ORD-1'),
    ];
    for (const sent of sends) {
      const res = await postFhir(r, 'gp-riverside', tx([put(withMrn('p5', nhs, 'M5')), sent]));
      expect(res.status, res.text).toBe(200);
    }
    expect(
      await itemsOf(nhs).then((items) => items.filter((i) => i.resourceType === 'Observation')),
    ).toHaveLength(1);
  });

  it('lets the source delete a conditionally created item by the id it sent it with', async () => {
    const nhs = '9990000077';
    const made = await postFhir(
      r,
      'gp-riverside',
      tx([
        put(withMrn('p7', nhs, 'M7')),
        post(glucose('o7', [{ system: ID_SYSTEM, value: 'D1' }], 'Patient/p7'), `identifier=${ID_SYSTEM}|D1`),
      ]),
    );
    expect(made.status, made.text).toBe(200);
    const gone = await postFhir(
      r,
      'gp-riverside',
      tx([{ request: { method: 'DELETE', url: 'Observation/o7' } }]),
    );
    expect(gone.status, gone.text).toBe(200);
    expect((await itemsOf(nhs)).filter((i) => i.resourceType === 'Observation')).toHaveLength(0);
  });

  it('follows the ids a re-export gave what it filed as earlier items: a link withholds, a DELETE deletes, a Patient is found', async () => {
    const nhs = '9990005109';
    const exportOf = (n: number) =>
      tx([
        post(withMrn(`pa-${n}`, nhs, 'M51'), `identifier=${MRN}|M51`),
        post(
          {
            resourceType: 'Condition',
            id: `hiv-${n}`,
            identifier: [{ system: ID_SYSTEM, value: 'HIV-51' }],
            code: { coding: [HIV] },
            subject: { reference: `Patient/pa-${n}` },
          } as Resource,
          `identifier=${ID_SYSTEM}|HIV-51`,
        ),
        post(
          glucose(`g-${n}`, [{ system: ID_SYSTEM, value: 'G-51' }], `Patient/pa-${n}`),
          `identifier=${ID_SYSTEM}|G-51`,
        ),
      ]);
    for (const n of [1, 2]) {
      const res = await postFhir(r, 'gp-riverside', exportOf(n));
      expect(res.status, res.text).toBe(200);
    }
    const observations = async () => (await itemsOf(nhs)).filter((i) => i.resourceType === 'Observation');
    expect(await observations()).toHaveLength(1);

    // the second export's ids, alone in later requests, with no identifier beside them
    const given = prescription('mr-51', 'Patient/pa-2', 'Paracetamol 500mg tablets', {
      reference: 'Condition/hiv-2',
    });
    expect((await postFhir(r, 'gp-riverside', tx([put(given)]))).status).toBe(200);
    expect((await itemsOf(nhs)).filter((i) => i.resourceType === 'MedicationRequest')).toEqual([]);

    const later = await postFhir(
      r,
      'gp-riverside',
      tx([put(glucose('g-later', [{ system: ID_SYSTEM, value: 'G-52' }], 'Patient/pa-2'))]),
    );
    expect(later.status, later.text).toBe(200);
    expect(await observations()).toHaveLength(2);

    const gone = await postFhir(
      r,
      'gp-riverside',
      tx([{ request: { method: 'DELETE', url: 'Observation/g-2' } }]),
    );
    expect(gone.status, gone.text).toBe(200);
    expect(
      (await observations()).map((o) => (o as { identifier: { value: string }[] }).identifier[0]!.value),
    ).toEqual(['G-52']);
  });

  it('never takes another person’s record for a Patient, whatever identifier it names', async () => {
    const [a, b, c, d] = ['9990005044', '9990005052', '9990005060', '9990005079'];
    const mine = (local: string, nhs: string, mrn: string, text: string) =>
      tx([
        put(withMrn(local, nhs, mrn)),
        post(glucose(randomUUID(), [{ system: ID_SYSTEM, value: `${local}-g` }], `Patient/${local}`)),
      ]).entry!.map((e, k) =>
        k === 1 ? { ...e, resource: { ...e.resource!, code: { text } } as Resource } : e,
      );
    // two records of the source carry the same hospital number (a merge the source got wrong)
    expect((await postFhir(r, 'gp-riverside', tx(mine('mA', a, 'DUP2', 'Glucose of A')))).status).toBe(200);
    expect((await postFhir(r, 'gp-riverside', tx(mine('mB', b, 'DUP2', 'Glucose of B')))).status).toBe(200);
    // one record, another NHS number
    expect((await postFhir(r, 'gp-riverside', tx(mine('solo', c, 'SOLO', 'Glucose of C')))).status).toBe(200);
    for (const [nhs, mrn] of [
      [b, 'DUP2'],
      [d, 'SOLO'],
    ] as const) {
      const id = randomUUID();
      const res = await postFhir(
        r,
        'gp-riverside',
        tx([post(withMrn(id, nhs, mrn), `identifier=${MRN}|${mrn}`, `urn:uuid:${id}`)]),
      );
      expect(res.status, res.text).toBe(200);
    }
    const texts = async (nhs: string) =>
      (await itemsOf(nhs))
        .filter((i) => i.resourceType === 'Observation')
        .map((o) => (o as { code: { text: string } }).code.text);
    expect(await texts(a)).toEqual(['Glucose of A']);
    expect(await texts(b)).toEqual(['Glucose of B']);
    expect(await texts(c)).toEqual(['Glucose of C']);
    expect(await texts(d)).toEqual([]);
  });

  it('answers an identifier list holding null with a 422, not a 500', async () => {
    const res = await postFhir(
      r,
      'gp-riverside',
      tx([
        post(
          { ...glucose('o-null', [], 'Patient/p5'), identifier: [null] } as unknown as Resource,
          'identifier=x',
        ),
      ]),
    );
    expect(res.status, res.text).toBe(422);
    expect(res.text).toContain('Bundle.entry[0]');
  });

  it.runIf(kind === 'postgres')(
    'stores one item when two re-sends with different fresh ids arrive at once',
    async () => {
      const nhs = '9990005087';
      expect((await postFhir(r, 'gp-riverside', tx([put(withMrn('px', nhs, 'PX'))]))).status).toBe(200);
      for (let k = 0; k < 5; k++) {
        const send = () =>
          postFhir(
            r,
            'gp-riverside',
            tx([
              put(withMrn('px', nhs, 'PX')),
              post(
                glucose(randomUUID(), [{ system: ID_SYSTEM, value: `NX${k}` }], 'Patient/px'),
                `identifier=${ID_SYSTEM}|NX${k}`,
              ),
            ]),
          );
        const answers = await Promise.all([send(), send()]);
        expect(answers.map((a) => a.status)).toEqual([200, 200]);
      }
      expect((await itemsOf(nhs)).filter((i) => i.resourceType === 'Observation')).toHaveLength(5);
    },
  );
});
