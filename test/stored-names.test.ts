/**
 * The names a source uses for what it stored, besides its own ids (src/ingest/pipeline/stored-names.ts):
 * an exporter that numbers each export afresh, and so reuses yesterday's ids for other things, is
 * read by its latest word. Each shape here was found by an adversarial pass and failed before.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { HIV, patientWithMrn, prescription, putEntry } from './fhir-data.ts';
import { everything, personIdFor, postFhir } from './http.ts';

const ID_SYSTEM = 'https://example.nhs.uk/Id/result';
const ASTHMA = { system: 'http://snomed.info/sct', code: '195967001', display: 'Asthma' };

const withMrn = patientWithMrn;
const put = putEntry;
/** a conditional create on the resource's first identifier */
const post = (res: Resource): BundleEntry => {
  const [first] = (res as { identifier: { system: string; value: string }[] }).identifier;
  return {
    resource: res,
    request: {
      method: 'POST',
      url: res.resourceType,
      ifNoneExist: `identifier=${first!.system}|${first!.value}`,
    },
  };
};
const tx = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry });
const condition = (id: string | undefined, ident: string, code: object, subject: string) =>
  ({
    resourceType: 'Condition',
    ...(id !== undefined ? { id } : {}),
    identifier: [{ system: ID_SYSTEM, value: ident }],
    code: { coding: [code] },
    subject: { reference: subject },
  }) as Resource;
const glucose = (id: string | undefined, ident: string, subject: string, value = '5.4') =>
  ({
    resourceType: 'Observation',
    ...(id !== undefined ? { id } : {}),
    identifier: [{ system: ID_SYSTEM, value: ident }],
    status: 'final',
    code: { text: 'Glucose' },
    subject: { reference: subject },
    valueString: value,
  }) as Resource;
const deleting = (url: string): Bundle => tx([{ request: { method: 'DELETE', url } }]);

describe.each(DB_KINDS)('names a re-exporting source reuses, on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r.drop());
  const ok = async (b: Bundle) => {
    const res = await postFhir(r, 'gp-riverside', b);
    expect(res.status, res.text).toBe(200);
  };
  const shown = async (nhs: string, type: string) =>
    (await everything(r, await personIdFor(r, nhs))).items.filter((i) => i.resourceType === type);
  const values = async (nhs: string) =>
    (await shown(nhs, 'Observation')).map((o) => (o as { valueString: string }).valueString).sort();

  it('links by the latest export’s ids when an export swaps them, so a prescription for the HIV diagnosis is withheld', async () => {
    const nhs = '9990005125';
    const exported = (hivId: string, asthmaId: string) =>
      tx([
        post(withMrn('px', nhs, 'MX1')),
        post(condition(hivId, 'HIV-X', HIV, 'Patient/px')),
        post(condition(asthmaId, 'AST-X', ASTHMA, 'Patient/px')),
      ]);
    await ok(exported('1', '2'));
    await ok(exported('2', '1'));
    expect(await shown(nhs, 'Condition')).toHaveLength(1);
    await ok(
      tx([put(prescription('mrx', 'Patient/px', 'Paracetamol 500mg tablets', { reference: 'Condition/2' }))]),
    );
    expect(await shown(nhs, 'MedicationRequest')).toEqual([]);
    // and the asthma, now "Condition/1", links as the asthma
    await ok(
      tx([put(prescription('mrx-2', 'Patient/px', 'Salbutamol inhaler', { reference: 'Condition/1' }))]),
    );
    expect(await shown(nhs, 'MedicationRequest')).toHaveLength(1);
  });

  it('takes an id reused after a DELETE as the item the latest export gave it to', async () => {
    const nhs = '9990005133';
    await ok(
      tx([
        post(withMrn('pd', nhs, 'MD1')),
        post(condition('1', 'AST-D', ASTHMA, 'Patient/pd')),
        post(condition('2', 'HIV-D', HIV, 'Patient/pd')),
      ]),
    );
    await ok(deleting('Condition/1'));
    await ok(tx([post(withMrn('pd', nhs, 'MD1')), post(condition('1', 'HIV-D', HIV, 'Patient/pd'))]));
    await ok(
      tx([put(prescription('mrd', 'Patient/pd', 'Paracetamol 500mg tablets', { reference: 'Condition/1' }))]),
    );
    expect(await shown(nhs, 'MedicationRequest')).toEqual([]);
  });

  it('files an item for a Patient id a partial export gave another person under that person', async () => {
    const [a, b] = ['9990005141', '9990005168'];
    await ok(tx([post(withMrn('q-1', a, 'QA')), post(withMrn('q-2', b, 'QB'))]));
    // the second export holds B only, numbered q-1
    await ok(tx([post(withMrn('q-1', b, 'QB'))]));
    await ok(tx([put(glucose('g-q', 'GQ-1', 'Patient/q-1'))]));
    expect([(await shown(a, 'Observation')).length, (await shown(b, 'Observation')).length]).toEqual([0, 1]);
  });

  it('deletes, and updates with a PUT, the item the latest export’s id names', async () => {
    const nhs = '9990005176';
    await ok(
      tx([
        post(withMrn('pz', nhs, 'MZ1')),
        post(glucose('o1', 'G-Z1', 'Patient/pz', '1.1')),
        post(glucose('o2', 'G-Z2', 'Patient/pz', '2.2')),
      ]),
    );
    await ok(
      tx([
        post(withMrn('pz', nhs, 'MZ1')),
        post(glucose('o2', 'G-Z1', 'Patient/pz', '1.1')),
        post(glucose('o1', 'G-Z2', 'Patient/pz', '2.2')),
      ]),
    );
    // "o1" is G-Z2 now: corrected, not doubled
    await ok(tx([put(glucose('o1', 'G-Z2', 'Patient/pz', '2.9'))]));
    expect(await values(nhs)).toEqual(['1.1', '2.9']);
    // "o2" is G-Z1 now
    await ok(deleting('Observation/o2'));
    expect(await values(nhs)).toEqual(['2.9']);
  });

  it('withholds the result a correction by the re-export’s id links to a never-shared diagnosis, with no copy left shown', async () => {
    const nhs = '9990005184';
    for (const n of [1, 2])
      await ok(
        tx([
          post(withMrn(`pv-${n}`, nhs, 'MV')),
          post(condition(`hivv-${n}`, 'HIV-V', HIV, `Patient/pv-${n}`)),
          post(glucose(`gv-${n}`, 'G-V', `Patient/pv-${n}`, '5.0')),
        ]),
      );
    await ok(
      tx([
        put({
          ...glucose('gv-2', 'G-V', 'Patient/pv-2'),
          focus: [{ reference: 'Condition/hivv-2' }],
        } as Resource),
      ]),
    );
    expect(await shown(nhs, 'Observation')).toEqual([]);
  });

  it('makes an id plain again when a later export stores it as itself', async () => {
    const nhs = '9990005192';
    await ok(tx([post(withMrn('pp', nhs, 'MP')), post(glucose('a', 'G-A', 'Patient/pp', '1.0'))]));
    // the second export calls G-A "b"; the third calls it "a" again and sends a new "b"
    await ok(tx([post(withMrn('pp', nhs, 'MP')), post(glucose('b', 'G-A', 'Patient/pp', '1.0'))]));
    await ok(
      tx([
        post(withMrn('pp', nhs, 'MP')),
        post(glucose('a', 'G-A', 'Patient/pp', '1.0')),
        post(glucose('b', 'G-B', 'Patient/pp', '2.0')),
      ]),
    );
    await ok(tx([put(glucose('b', 'G-B', 'Patient/pp', '2.5'))]));
    expect(await values(nhs)).toEqual(['1.0', '2.5']);
  });

  it('answers a conditional create re-sent under an id too long to be one with a 200, not a 500', async () => {
    const nhs = '9990005206';
    // incompressible: PostgreSQL compresses a long key before it measures it
    const long = randomBytes(2000).toString('hex');
    for (const id of ['long-1', long]) {
      const res = await postFhir(
        r,
        'gp-riverside',
        tx([put(withMrn('pl', nhs, 'ML')), post(glucose(id, 'G-L', 'Patient/pl'))]),
      );
      expect(res.status, res.text.slice(0, 300)).toBe(200);
    }
    expect(await values(nhs)).toEqual(['5.4']);
  });

  // a second adversarial pass
  it('keeps both when a re-export gives the id of an item it files by identifier to a new item, whichever comes first', async () => {
    for (const [nhs, order] of [
      ['9990006202', 'hiv-first'],
      ['9990006210', 'asthma-first'],
    ] as const) {
      const p = `pa-${order}`;
      const hiv = (id: string) => post(condition(id, `HIV-${order}`, HIV, `Patient/${p}`));
      const asthma = post(condition(`${order}-1`, `AST-${order}`, ASTHMA, `Patient/${p}`));
      await ok(tx([post(withMrn(p, nhs, `M-${order}`)), hiv(`${order}-1`)]));
      // the second export calls the HIV diagnosis "-2" and gives "-1" to a new asthma diagnosis
      const second = order === 'hiv-first' ? [hiv(`${order}-2`), asthma] : [asthma, hiv(`${order}-2`)];
      await ok(tx([post(withMrn(p, nhs, `M-${order}`)), ...second]));
      const { rows } = await r.db.query<{ body: string }>(
        `SELECT body FROM clinical_item WHERE person_id = $1 AND resource_type = 'Condition' AND NOT deleted`,
        [await personIdFor(r, nhs)],
      );
      expect(rows.map((x) => JSON.parse(x.body).code.coding[0].code).sort()).toEqual(
        [ASTHMA.code, HIV.code].sort(),
      );
      await ok(
        tx([
          put(
            prescription(`mr-${order}`, `Patient/${p}`, 'Paracetamol', { reference: `Condition/${order}-2` }),
          ),
        ]),
      );
      expect(await shown(nhs, 'MedicationRequest')).toEqual([]);
      await ok(
        tx([
          put(
            prescription(`mr2-${order}`, `Patient/${p}`, 'Salbutamol', { reference: `Condition/${order}-1` }),
          ),
        ]),
      );
      expect(await shown(nhs, 'MedicationRequest')).toHaveLength(1);
    }
  });

  it('leaves a patient’s items with them when a re-export gives their old id to a new patient', async () => {
    const [a, b] = ['9990006296', '9990006318'];
    await ok(
      tx([
        post(withMrn('f3-1', a, 'F3A')),
        post(condition('f3-hiv', 'HIV-F3', HIV, 'Patient/f3-1')),
        post(glucose('f3-g', 'G-F3', 'Patient/f3-1', '4.4')),
      ]),
    );
    // the second export: A is "f3-2" now, and a new patient B is "f3-1"
    await ok(tx([post(withMrn('f3-2', a, 'F3A')), post(withMrn('f3-1', b, 'F3B'))]));
    const { rows } = await r.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM clinical_item WHERE person_id = $1`,
      [await personIdFor(r, b)],
    );
    expect(rows[0]!.n).toBe(0);
    expect(await values(a)).toEqual(['4.4']);
    // and "Patient/f3-1" is B from now on
    await ok(tx([put(glucose('f3-g2', 'G-F3B', 'Patient/f3-1', '6.6'))]));
    expect(await values(b)).toEqual(['6.6']);
  });

  it('moves an item a PUT by the id intake answered with files under another patient, leaving no copy', async () => {
    const [a, b] = ['9990006229', '9990006237'];
    await ok(tx([put(withMrn('m-a', a, 'MMA')), put(withMrn('m-b', b, 'MMB'))]));
    const made = await postFhir(
      r,
      'gp-riverside',
      tx([
        {
          resource: glucose(undefined, 'G-M', 'Patient/m-a', '7.7'),
          request: { method: 'POST', url: 'Observation' },
        },
      ]),
    );
    const at = made.body.entry![0]!.response!.location!.replace(/\/_history\/.*$/, '');
    await ok(
      tx([
        {
          resource: { ...glucose(at.split('/')[1], 'G-M', 'Patient/m-b', '7.7') },
          request: { method: 'PUT', url: at },
        },
      ]),
    );
    expect([await values(a), await values(b)]).toEqual([[], ['7.7']]);
  });

  it('takes an id the source stored an item under as that item, though it is Sharedcare’s id of another', async () => {
    const nhs = '9990006334';
    const made = await postFhir(
      r,
      'gp-riverside',
      tx([
        put(withMrn('h7', nhs, 'H7')),
        {
          resource: condition(undefined, 'AST-H7', ASTHMA, 'Patient/h7'),
          request: { method: 'POST', url: 'Condition' },
        },
      ]),
    );
    const asthmaId = made.body.entry![1]!.response!.location!.split('/')[1]!;
    await ok(tx([post(condition(asthmaId, 'HIV-H7', HIV, 'Patient/h7'))]));
    await ok(
      tx([put(prescription('mr-h7', 'Patient/h7', 'Paracetamol', { reference: `Condition/${asthmaId}` }))]),
    );
    expect(await shown(nhs, 'MedicationRequest')).toEqual([]);
  });

  // PGlite runs one transaction at a time: the race is PostgreSQL's
  it.runIf(kind === 'postgres')(
    'answers two re-exports at once that give the same ids in opposite orders, without a deadlock',
    async () => {
      const n = 300;
      const people = [
        ['9990006369', 'cc1'],
        ['9990006377', 'cc2'],
      ] as const;
      for (const [nhs, p] of people)
        await ok(
          tx([
            put(withMrn(p, nhs, `M-${p}`)),
            ...Array.from({ length: n }, (_, i) =>
              put(glucose(`${p}-o-${i}`, `${p}-I-${i}`, `Patient/${p}`)),
            ),
          ]),
        );
      for (let round = 0; round < 20; round++) {
        const send = (k: 0 | 1) => {
          const [nhs, p] = people[k];
          const order = Array.from({ length: n }, (_, i) => i);
          if (k === 1) order.reverse();
          return postFhir(
            r,
            'gp-riverside',
            tx([
              post(withMrn(p, nhs, `M-${p}`)),
              ...order.map((i) => post(glucose(`s${round % 2}-${i}`, `${p}-I-${i}`, `Patient/${p}`))),
            ]),
          );
        };
        const answers = await Promise.all([send(0), send(1)]);
        expect(answers.map((a) => a.status)).toEqual([200, 200]);
      }
    },
    120_000,
  );

  // a third adversarial pass: an id the source renumbered away from, used again later
  const rawCodes = async (nhs: string) => {
    const { rows } = await r.db.query<{ body: string }>(
      `SELECT body FROM clinical_item WHERE person_id = $1 AND resource_type = 'Condition' AND NOT deleted`,
      [await personIdFor(r, nhs)],
    );
    return rows.map((x) => JSON.parse(x.body).code.coding[0].code as string).sort();
  };
  const both = [ASTHMA.code, HIV.code].sort();

  it('does not let a later new item, PUT or DELETE reach an item by the id the source renumbered it away from', async () => {
    for (const [nhs, p, later] of [
      ['9990006385', 'f1', 'conditional'],
      ['9990006458', 'g1', 'put'],
      ['9990006466', 'g2', 'delete'],
    ] as const) {
      await ok(
        tx([
          post(withMrn(`${p}p`, nhs, `M-${p}`)),
          post(condition(`${p}-b`, `HIV-${p}`, HIV, `Patient/${p}p`)),
        ]),
      );
      await ok(
        tx([put(prescription(`${p}-mr`, `Patient/${p}p`, 'Paracetamol', { reference: `Condition/${p}-b` }))]),
      );
      // the HIV diagnosis is "-a" now; then "-b" is used again
      await ok(
        tx([
          post(withMrn(`${p}p`, nhs, `M-${p}`)),
          post(condition(`${p}-a`, `HIV-${p}`, HIV, `Patient/${p}p`)),
        ]),
      );
      const asthma = condition(`${p}-b`, `AST-${p}`, ASTHMA, `Patient/${p}p`);
      if (later === 'conditional') await ok(tx([post(withMrn(`${p}p`, nhs, `M-${p}`)), post(asthma)]));
      else if (later === 'put') await ok(tx([put(asthma)]));
      else await ok(deleting(`Condition/${p}-b`));
      expect(await rawCodes(nhs), later).toEqual(later === 'delete' ? [HIV.code] : both);
      expect(await shown(nhs, 'MedicationRequest'), later).toEqual([]);
    }
  });

  it('leaves a patient’s items with them when a later export gives their renumbered id to a new patient', async () => {
    const [a, b] = ['9990006393', '9990006407'];
    await ok(
      tx([
        post(withMrn('f2-1', a, 'F2A')),
        post(condition('f2-hiv', 'HIV-F2', HIV, 'Patient/f2-1')),
        post(glucose('f2-g', 'G-F2', 'Patient/f2-1', '4.4')),
      ]),
    );
    await ok(tx([post(withMrn('f2-2', a, 'F2A'))]));
    await ok(tx([post(withMrn('f2-1', b, 'F2B'))]));
    const { rows } = await r.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM clinical_item WHERE person_id = $1`,
      [await personIdFor(r, b)],
    );
    expect(rows[0]!.n).toBe(0);
    expect(await values(a)).toEqual(['4.4']);
  });

  it('keeps earlier links with the item a conditional create finds, when a PUT in the same request takes its old id', async () => {
    const nhs = '9990006415';
    await ok(tx([post(withMrn('f3p', nhs, 'F3')), post(condition('f3-a', 'HIV-F3', HIV, 'Patient/f3p'))]));
    await ok(tx([put(prescription('f3-mr', 'Patient/f3p', 'Paracetamol', { reference: 'Condition/f3-a' }))]));
    await ok(
      tx([
        post(withMrn('f3p', nhs, 'F3')),
        post(condition('f3-b', 'HIV-F3', HIV, 'Patient/f3p')),
        put(condition('f3-a', 'AST-F3', ASTHMA, 'Patient/f3p')),
      ]),
    );
    expect(await rawCodes(nhs)).toEqual(both);
    expect(await shown(nhs, 'MedicationRequest')).toEqual([]);
  });

  it('never files a new item under another person’s item that carries the same identifier', async () => {
    const [p1, p2] = ['9990006423', '9990006431'];
    await ok(
      tx([
        post(withMrn('f4-1', p1, 'F4A')),
        {
          resource: glucose(undefined, 'K-1', 'Patient/f4-1', '1.1'),
          request: { method: 'POST', url: 'Observation' },
        },
      ]),
    );
    await ok(tx([post(withMrn('f4-2', p2, 'F4B')), post(glucose('f4-x', 'G-X', 'Patient/f4-2', '2.2'))]));
    await ok(
      tx([
        post(withMrn('f4-2', p2, 'F4B')),
        post(glucose('f4-y', 'G-X', 'Patient/f4-2', '2.2')),
        post(glucose('f4-x', 'K-1', 'Patient/f4-2', '3.3')),
      ]),
    );
    expect(await values(p1)).toEqual(['1.1']);
    expect(await values(p2)).toEqual(['2.2', '3.3']);
  });

  it('keeps both when two conditional creates of one request share an id, one found and one new', async () => {
    const nhs = '9990006482';
    await ok(tx([post(withMrn('h3p', nhs, 'H3')), post(condition('h3-a', 'HIV-H3', HIV, 'Patient/h3p'))]));
    await ok(tx([put(prescription('h3-mr', 'Patient/h3p', 'Paracetamol', { reference: 'Condition/h3-a' }))]));
    await ok(
      tx([
        post(withMrn('h3p', nhs, 'H3')),
        post(condition('h3-a', 'HIV-H3', HIV, 'Patient/h3p')),
        post(condition('h3-a', 'AST-H3', ASTHMA, 'Patient/h3p')),
      ]),
    );
    expect(await rawCodes(nhs)).toEqual(both);
    expect(await shown(nhs, 'MedicationRequest')).toEqual([]);
  });

  it('takes a Patient PUT by the person’s answered id, or by a re-export’s id, as the record it names', async () => {
    const records = async (nhs: string) => {
      const { rows } = await r.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM person_link WHERE source_id = 'gp-riverside' AND person_id = $1`,
        [await personIdFor(r, nhs)],
      );
      return rows[0]!.n;
    };
    const [answered, renumbered] = ['9990006326', '9990006474'];
    const made = await postFhir(
      r,
      'gp-riverside',
      tx([
        {
          fullUrl: 'urn:uuid:6f1c2b9e-1d1e-4f55-8a0e-3c4d5e6f7a81',
          resource: { ...withMrn('unused', answered, 'F4'), id: undefined } as Resource,
          request: { method: 'POST', url: 'Patient' },
        },
      ]),
    );
    const personId = made.body.entry![0]!.response!.location!.split('/')[1]!;
    await ok(
      tx([put({ ...withMrn(personId, answered, 'F4'), name: [{ family: 'Corrected' }] } as Resource)]),
    );
    expect(await records(answered)).toBe(1);

    await ok(tx([post(withMrn('g3-1', renumbered, 'G3'))]));
    await ok(tx([post(withMrn('g3-2', renumbered, 'G3'))]));
    await ok(tx([put(withMrn('g3-2', renumbered, 'G3'))]));
    expect(await records(renumbered)).toBe(1);
  });
});
