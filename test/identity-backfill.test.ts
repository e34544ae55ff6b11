/**
 * Source records linked before the master patient index existed (migration 019) carry no match
 * keys, so no later record could find them as candidates. The backfill computes their keys from
 * the demographics stored with the link; after it, such a record is found like any other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillMatchKeys } from '../src/identity/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle } from './fhir-data.ts';
import { personIdFor, postFhir } from './http.ts';
import { patientOf, someone } from './identity-data.ts';

const personOf = async (r: TestRegion, source: string, local: string): Promise<string> =>
  (
    await r.db.query<{ p: string }>(
      'SELECT person_id AS p FROM person_link WHERE source_id = $1 AND local_id = $2',
      [source, local],
    )
  ).rows[0]!.p;

/** What a row linked before migration 019 looks like: no features, no blocking keys, no version. */
const asBefore019 = (r: TestRegion, local: string) =>
  r.db.query(
    `UPDATE person_link SET features = NULL, block_dob = NULL, block_keys = NULL,
            keys_version = NULL WHERE local_id = $1`,
    [local],
  );

describe.each(DB_KINDS)('match keys of records linked before the index, on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  }, 300_000);
  afterAll(async () => r?.drop());

  it('are invisible to matching until the backfill computes them, then a new record links to them', async () => {
    const who = someone(41);
    await postFhir(r, 'gp-riverside', bundle('batch', [patientOf('gp-old', who, '9990000417')]));
    await asBefore019(r, 'gp-old');
    const gpPerson = await personIdFor(r, '9990000417');

    // without keys the old record is no candidate: a hospital record of the same person stands alone
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-before', who)]));
    expect(await personOf(r, 'northgate-pas', 'mrn-before')).not.toBe(gpPerson);

    expect(await backfillMatchKeys(r.db)).toEqual({ records: 1 });
    const { rows } = await r.db.query<{ block_dob: string; block_keys: string[]; keys_version: number }>(
      `SELECT block_dob, block_keys, keys_version FROM person_link WHERE local_id = 'gp-old'`,
    );
    expect(rows).toEqual([
      {
        block_dob: who.birthDate,
        block_keys: expect.arrayContaining([`dp:${who.birthDate}:${who.postcode}`]) as string[],
        keys_version: 4,
      },
    ]);

    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-after', who)]));
    expect(await personOf(r, 'northgate-pas', 'mrn-after')).toBe(gpPerson);
  });

  it('touches nothing on a second run', async () => {
    expect(await backfillMatchKeys(r.db)).toEqual({ records: 0 });
  });
});
