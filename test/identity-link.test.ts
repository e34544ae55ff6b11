/**
 * The master patient index at intake: NHS number first, demographics for the rest, a review queue
 * between the thresholds, and one person for one human even when two sources race.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION } from './fhir-data.ts';
import { personIdFor, postFhir } from './http.ts';
import { patientOf, ROSE, someone } from './identity-data.ts';

const personOf = async (r: TestRegion, source: string, local: string): Promise<string> =>
  (
    await r.db.query<{ p: string }>(
      'SELECT person_id AS p FROM person_link WHERE source_id = $1 AND local_id = $2',
      [source, local],
    )
  ).rows[0]!.p;

describe.each(DB_KINDS)('master patient index on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r?.drop());

  it('links a record without an NHS number to the person its demographics match', async () => {
    await postFhir(r, 'gp-riverside', bundle('batch', [patientOf('gp-rose', ROSE, '9990000018')]));
    const res = await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [
        patientOf('mrn-rose', { ...ROSE, given: 'Rosalind', family: 'Ackroyde' }),
        condition('c-rose', 'Patient/mrn-rose', HYPERTENSION),
      ]),
    );
    expect(res.status).toBe(200);
    expect(await personOf(r, 'northgate-pas', 'mrn-rose')).toBe(await personIdFor(r, '9990000018'));
  });

  it('never links two different valid NHS numbers, however alike the demographics', async () => {
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-rose-2', ROSE, '9990000026')]));
    expect(await personIdFor(r, '9990000026')).not.toBe(await personIdFor(r, '9990000018'));
  });

  it('gives a person found by demographics the NHS number a later record brings', async () => {
    const who = someone(1);
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-s1', who)]));
    const before = await personOf(r, 'northgate-pas', 'mrn-s1');
    await postFhir(r, 'gp-riverside', bundle('batch', [patientOf('gp-s1', who, '9990000034')]));
    expect(await personIdFor(r, '9990000034')).toBe(before);
  });

  it('sends a pair between the thresholds to review, keeping the record apart meanwhile', async () => {
    const who = someone(2);
    await postFhir(r, 'gp-riverside', bundle('batch', [patientOf('gp-s2', who, '9990000042')]));
    // moved house and a new phone: only the name, date of birth and sex agree
    const moved = { ...who, postcode: 'ND8 1AA', line: '2 Low Green', phone: '01632 960999' };
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-s2', moved)]));
    expect(await personOf(r, 'northgate-pas', 'mrn-s2')).not.toBe(await personIdFor(r, '9990000042'));
    const { rows } = await r.db.query<{ status: string; candidate_local_id: string }>(
      `SELECT status, candidate_local_id FROM identity_review WHERE local_id = 'mrn-s2'`,
    );
    expect(rows).toEqual([{ status: 'open', candidate_local_id: 'gp-s2' }]);
  });

  it('keeps apart records that share nothing but a birth date', async () => {
    const a = someone(3);
    const b = { ...someone(4), birthDate: a.birthDate };
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-s3', a), patientOf('mrn-s4', b)]));
    expect(await personOf(r, 'northgate-pas', 'mrn-s3')).not.toBe(
      await personOf(r, 'northgate-pas', 'mrn-s4'),
    );
    const { rows } = await r.db.query(`SELECT 1 FROM identity_review WHERE local_id IN ('mrn-s3', 'mrn-s4')`);
    expect(rows).toHaveLength(0);
  });

  it("never joins two of one source's own records (the source knows they are two people)", async () => {
    const who = someone(5);
    await postFhir(
      r,
      'northgate-pas',
      bundle('batch', [patientOf('mrn-s5a', who), patientOf('mrn-s5b', who)]),
    );
    expect(await personOf(r, 'northgate-pas', 'mrn-s5a')).not.toBe(
      await personOf(r, 'northgate-pas', 'mrn-s5b'),
    );
  });

  it('keeps each source’s demographics as sent, accents, quotes and backslashes included', async () => {
    const who = { ...someone(6), family: 'O\'Brien-Núñez "Nan"', line: 'Flat 2\\B, Rue de l’Église' };
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-s6', who)]));
    const { rows } = await r.db.query<{ d: string }>(
      'SELECT demographics AS d FROM person_link WHERE source_id = $1 AND local_id = $2',
      ['northgate-pas', 'mrn-s6'],
    );
    const stored = JSON.parse(rows[0]!.d) as { name: { family: string }[]; address: { line: string[] }[] };
    expect(stored.name[0]!.family).toBe(who.family);
    expect(stored.address[0]!.line[0]).toBe(who.line);
    // stored as JSON.stringify writes it: compact, the characters themselves rather than escapes
    expect(rows[0]!.d).toBe(JSON.stringify(stored));
  });
});

describe.runIf(DB_KINDS.includes('postgres'))('concurrent arrivals on postgres', () => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion('postgres');
  });
  afterAll(async () => r?.drop());

  it('makes exactly one person when two sources send the same new person at once', async () => {
    for (let n = 10; n < 20; n++) {
      const who = someone(n);
      const nhs =
        n % 2 === 0
          ? undefined
          : ['9990000050', '9990000069', '9990000077', '9990000085', '9990000093'][(n - 11) / 2];
      const sent = await Promise.all([
        postFhir(r, 'gp-riverside', bundle('batch', [patientOf(`gp-c${n}`, who, nhs)])),
        postFhir(r, 'northgate-pas', bundle('batch', [patientOf(`mrn-c${n}`, who, nhs)])),
        postFhir(r, 'private-lab', bundle('batch', [patientOf(`lab-c${n}`, who)])),
      ]);
      expect(sent.map((s) => s.status)).toEqual([200, 200, 200]);
      const persons = new Set([
        await personOf(r, 'gp-riverside', `gp-c${n}`),
        await personOf(r, 'northgate-pas', `mrn-c${n}`),
        await personOf(r, 'private-lab', `lab-c${n}`),
      ]);
      expect(persons.size).toBe(1);
    }
  });
});

describe.each(DB_KINDS)("the person's demographics on %s", (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r?.drop());

  it('come from a source linked by NHS number before one matched on demographics, however recent', async () => {
    const who = someone(40);
    await postFhir(r, 'northgate-pas', bundle('batch', [patientOf('mrn-40', who, '9990000018')]));
    // the GP's record has no NHS number, is newer, and spells the name differently
    await postFhir(
      r,
      'gp-riverside',
      bundle('batch', [patientOf('gp-40', { ...who, given: `${who.given}e` })]),
    );
    const person = await personIdFor(r, '9990000018');
    expect(await personOf(r, 'gp-riverside', 'gp-40')).toBe(person);
    const token = await r.userToken('dr', 'Y90001');
    const res = await r.app.server.inject({
      method: 'GET',
      url: `/fhir/Patient/${person}`,
      headers: { authorization: `Bearer ${token}` },
    });
    const patient = JSON.parse(res.body) as { name: { given: string[] }[]; extension: { url: string }[] };
    expect(patient.name[0]!.given).toEqual([who.given]);
    // every source's record is listed
    expect(patient.extension.filter((e) => e.url.endsWith('/source-record'))).toHaveLength(2);
  });
});
