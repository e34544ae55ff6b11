/**
 * A new patient's GP record and hospital admission arriving at the same moment, each carrying the
 * same new NHS number: both are accepted and one person results. Truly concurrent, so PostgreSQL
 * only (PGlite runs one transaction at a time); each request runs on its own pool connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nhsCheckDigit } from '../src/identity/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { postFhir } from './http.ts';

/** Valid NHS numbers in the 999 test range, distinct per round. */
function nhsNumber(n: number): string {
  for (let k = n * 10; ; k++) {
    const first = `999${String(7000 + k).padStart(6, '0')}`;
    const check = nhsCheckDigit(first);
    if (check !== undefined) return `${first}${check}`;
  }
}

describe.runIf(DB_KINDS.includes('postgres'))('two sources, one new NHS number, at once', () => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion('postgres');
  });
  afterAll(async () => r.drop());

  it('accepts both requests and links both records to one person, round after round', async () => {
    for (let round = 0; round < 12; round++) {
      const nhs = nhsNumber(round);
      const send = (source: string, local: string) =>
        postFhir(
          r,
          source,
          bundle('batch', [patient(local, nhs), condition(`${local}-c`, `Patient/${local}`, HYPERTENSION)]),
        );
      const replies = await Promise.all([
        send('gp-riverside', `race-gp-${round}`),
        send('northgate-pas', `race-pas-${round}`),
        send('private-lab', `race-lab-${round}`),
      ]);
      for (const res of replies) expect(res.status, res.text).toBe(200);
      const { rows } = await r.db.query<{ persons: number; linked: number }>(
        `SELECT (SELECT count(*)::int FROM person WHERE nhs_number = $1) AS persons,
                (SELECT count(DISTINCT person_id)::int FROM person_link WHERE nhs_number = $1) AS linked`,
        [nhs],
      );
      expect(rows[0]).toEqual({ persons: 1, linked: 1 });
    }
  });
});
