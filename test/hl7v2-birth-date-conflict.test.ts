/**
 * Two sources disagree about the birth date of one NHS number: the second record is not linked
 * silently (nor does it overwrite the first); it stands alone and the pair waits in identity review,
 * where an administrator can link it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertSource } from '../src/region/index.ts';
import { personIdFor } from './http.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

const HOSPITAL = 'northgate-hl7';
const CLINIC = 'southgate-hl7';

function admission(source: string, control: string, hospitalNo: string, nhs: string, birth: string): string {
  return [
    `MSH|^~\\&|${source}|X|SHAREDCARE|REGION|20240315101500||ADT^A01^ADT_A01|${control}|P|2.4`,
    'EVN|A01|20240315101500',
    `PID|1||${hospitalNo}^^^X^MR~${nhs}^^^NHS^NH||TESTER^Pat||${birth}|M|||1 High St^^Leeds^^LS1 1AA^GBR^H`,
    `PV1|1|I|WARD7^BED2^^RX1||||C123^Jones^Alan|||300|||||||||V-${control}`,
  ].join('\r');
}

async function send(r: TestRegion, source: string, body: string): Promise<string> {
  const res = await r.app.server.inject({
    method: 'POST',
    url: '/ingest/hl7v2',
    headers: { authorization: `Bearer ${await r.sourceToken(source)}`, 'content-type': 'text/plain' },
    payload: body,
  });
  return /MSA\|([A-Z]{2})/.exec(res.body)?.[1] ?? res.body;
}

async function reviewQueue(r: TestRegion) {
  const res = await r.app.server.inject({
    url: '/admin/identity/review',
    headers: { authorization: `Bearer ${await r.adminToken()}` },
  });
  return JSON.parse(res.body) as {
    id: string;
    record: { localId: string };
    candidate: { localId: string };
  }[];
}

const personOf = async (r: TestRegion, source: string, local: string) =>
  (
    await r.db.query<{ p: string }>(
      'SELECT person_id AS p FROM person_link WHERE source_id = $1 AND local_id = $2',
      [source, local],
    )
  ).rows[0]?.p;

describe.each(DB_KINDS)('conflicting birth dates for one NHS number, on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
    await upsertSource(r.db, { id: HOSPITAL, org: 'RX1', kind: 'hl7v2' });
    await upsertSource(r.db, { id: CLINIC, org: 'LAB01', kind: 'hl7v2' });
    await upsertSource(r.db, { id: 'lab-swap', org: 'RX1', kind: 'hl7v2' });
  }, 120_000);
  afterAll(async () => r?.drop());

  it('queues the second record for review instead of linking it, and links it when an administrator says so', async () => {
    expect(await send(r, HOSPITAL, admission(HOSPITAL, 'BD-1', 'H100', '9990000220', '19700101'))).toBe('AA');
    const person = await personIdFor(r, '9990000220');
    expect(await send(r, CLINIC, admission(CLINIC, 'BD-2', 'C200', '9990000220', '19850615'))).toBe('AA');

    // not linked, not overwritten: the person keeps its one record
    expect(await personOf(r, CLINIC, 'C200')).not.toBe(person);
    expect(await personIdFor(r, '9990000220')).toBe(person);
    const records = await r.db.query('SELECT source_id FROM person_link WHERE person_id = $1', [person]);
    expect(records.rows).toEqual([{ source_id: HOSPITAL }]);
    const pair = (await reviewQueue(r)).find((p) => p.record.localId === 'C200');
    expect(pair?.candidate.localId).toBe('H100');

    // a further message about the waiting record neither links it nor queues it twice
    expect(await send(r, CLINIC, admission(CLINIC, 'BD-3', 'C200', '9990000220', '19850616'))).toBe('AA');
    expect(await personOf(r, CLINIC, 'C200')).not.toBe(person);
    expect((await reviewQueue(r)).filter((p) => p.record.localId === 'C200')).toHaveLength(1);

    const res = await r.app.server.inject({
      method: 'POST',
      url: `/admin/identity/review/${pair!.id}`,
      headers: { authorization: `Bearer ${await r.adminToken()}` },
      payload: { decision: 'link' },
    });
    expect(res.statusCode).toBe(200);
    expect(await personOf(r, CLINIC, 'C200')).toBe(person);
  });

  it('links a birth date that differs only by a slip (day and month swapped, one digit wrong)', async () => {
    expect(await send(r, HOSPITAL, admission(HOSPITAL, 'BD-6', 'H102', '9990000247', '19700305'))).toBe('AA');
    const person = await personIdFor(r, '9990000247');
    expect(await send(r, CLINIC, admission(CLINIC, 'BD-7', 'C202', '9990000247', '19700503'))).toBe('AA');
    expect(await send(r, 'lab-swap', admission('lab-swap', 'BD-8', 'L300', '9990000247', '19710305'))).toBe(
      'AA',
    );
    expect(await personOf(r, CLINIC, 'C202')).toBe(person);
    expect(await personOf(r, 'lab-swap', 'L300')).toBe(person);
    expect((await reviewQueue(r)).filter((p) => ['C202', 'L300'].includes(p.record.localId))).toHaveLength(0);
  });

  it('links at once when the birth dates agree', async () => {
    expect(await send(r, HOSPITAL, admission(HOSPITAL, 'BD-4', 'H101', '9990000239', '19600202'))).toBe('AA');
    expect(await send(r, CLINIC, admission(CLINIC, 'BD-5', 'C201', '9990000239', '19600202'))).toBe('AA');
    expect(await personOf(r, CLINIC, 'C201')).toBe(await personIdFor(r, '9990000239'));
  });
});
