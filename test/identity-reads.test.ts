/**
 * A decision for one record reads through the database function of migration 028 (its prior link,
 * its locks and its reads in one round trip); a batch reads with one statement of arrays. Both must read the same: the same candidates
 * with their persons' NHS numbers, the same persons by NHS number and their records, the same
 * remembered decisions and name counts. For a record without a valid NHS number the one-record
 * read leaves the candidates' persons' numbers out, and nothing else.
 */
import type { Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/index.ts';
import { createPersonLinker, featuresOf, loadMatchRules } from '../src/identity/index.ts';
import {
  readForDecisions,
  readOneRecord,
  type DecisionQuery,
  type DecisionReads,
} from '../src/identity/decision-reads.ts';
import { lockKeys } from '../src/identity/priors.ts';
import { keyProbes, type MatchFeatures } from '../src/identity/features.ts';
import { isValidNhsNumber } from '../src/identity/nhs-number.ts';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';
import { patientOf, ROSE, someone } from './identity-data.ts';

const linker = createPersonLinker(loadMatchRules());

async function link(db: Database, sourceId: string, records: [string, Patient][]): Promise<void> {
  await db.transaction((tx) =>
    linker.linkSourcePatients(
      tx,
      sourceId,
      records.map(([localId, patient]) => ({ localId, patient, contentHash: localId })),
    ),
  );
}

/** The query loadContext makes for these records; `extra` local ids make it a batch's. */
function queryFor(f: MatchFeatures, localId: string, extra: string[] = []): DecisionQuery {
  const keys = { probes: keyProbes(f) };
  const none = { probes: [] };
  return {
    sourceId: 'ooh',
    localIds: [localId, ...extra],
    anyPerson: f.nhsTrusted ? none : keys,
    unnumbered: f.nhsTrusted ? keys : none,
    trustedNhs: f.nhsTrusted ? [f.nhs!] : [],
    noValidNhs: !isValidNhsNumber(f.nhs),
    names: [
      { field: 'family', value: f.family.join(' ') },
      { field: 'given', value: f.given[0] ?? '' },
    ],
  };
}

/** Comparable: records in one order, maps as sorted entries. */
const plain = (r: DecisionReads, dropPersonNhs = false) => {
  const records = (xs: DecisionReads['candidates']) =>
    xs
      .map((x) => ({ ...x, personNhs: dropPersonNhs ? undefined : x.personNhs }))
      .sort((a, b) => `${a.sourceId}|${a.localId}`.localeCompare(`${b.sourceId}|${b.localId}`));
  return {
    candidates: records(r.candidates),
    personByNhs: [...r.personByNhs].sort(),
    nhsPersonRecords: records(r.nhsPersonRecords),
    remembered: [...r.remembered].map(([k, m]) => [k, [...m.link].sort(), [...m.apart].sort()]),
    termShares: [...r.termShares].sort(),
  };
};

describe.each(DB_KINDS)('the decision reads for one record and for a batch, on %s', (kind) => {
  let t: TestDatabase;
  // Rose has an NHS number at the GP; her namesake born the same day, at the same address, has
  // none anywhere. A neighbour shares her postcode and first name (a candidate), a man her
  // postcode and birth date (a candidate), a woman her postcode alone and another her birth date
  // alone (neither is: a candidate shares two fields).
  const namesake = { ...ROSE, given: 'Rosamund', phone: '01632 960999' };
  const neighbour = { ...someone(4), postcode: ROSE.postcode, given: ROSE.given };
  const manNextDoor = { ...someone(3), postcode: ROSE.postcode, birthDate: ROSE.birthDate };
  const postcodeOnly = { ...someone(6), postcode: ROSE.postcode };
  const birthDateOnly = { ...someone(8), birthDate: ROSE.birthDate };
  beforeAll(async () => {
    t = await freshDatabase(kind);
    await link(t.db, 'gp', [
      ['gp-rose', patientOf('gp-rose', ROSE, '9990000018') as Patient],
      ['gp-neighbour', patientOf('gp-neighbour', neighbour, '9990000026') as Patient],
      ['gp-man-next-door', patientOf('gp-man-next-door', manNextDoor, '9990000042') as Patient],
      ['gp-postcode-only', patientOf('gp-postcode-only', postcodeOnly) as Patient],
      ['gp-birth-date-only', patientOf('gp-birth-date-only', birthDateOnly) as Patient],
    ]);
    await link(t.db, 'hospital', [
      ['h-rose', patientOf('h-rose', ROSE) as Patient],
      ['h-namesake', patientOf('h-namesake', namesake) as Patient],
    ]);
    await t.db.query(
      `INSERT INTO identity_decision VALUES ('ooh', 'o-1', 'hospital', 'h-namesake', 'apart', 'test', now())`,
    );
    await t.db.query(`INSERT INTO identity_term_frequency VALUES ('family', 'ackroyd', 0.002)`);
  }, 300_000);
  afterAll(async () => t?.drop());

  const read = async (f: MatchFeatures, batch: boolean): Promise<DecisionReads> =>
    batch
      ? readForDecisions(t.db, queryFor(f, 'o-1', ['o-absent']))
      : t.db.transaction(
          async (tx) => (await readOneRecord(tx, queryFor(f, 'o-1'), 'new', lockKeys(f))).reads!,
        );

  it('reads the same for a record with a trusted NHS number: only candidates whose person has none', async () => {
    const f = featuresOf(patientOf('o-1', ROSE, '9990000034') as Patient);
    const one = plain(await read(f, false));
    expect(one).toEqual(plain(await read(f, true)));
    expect(one.candidates.map((c) => c.localId)).toEqual(['h-namesake']);
    expect(one.candidates[0]!.personNhs).toBeNull();
    expect(one.remembered).toEqual([['o-1', [], ['hospital|h-namesake']]]);
    expect(one.termShares).toEqual([['family|ackroyd', 0.002]]);
  });

  it('reads the same for a record that names a person by NHS number, with that person and records, but no candidates', async () => {
    const f = featuresOf(patientOf('o-1', ROSE, '9990000018') as Patient);
    const one = plain(await read(f, false));
    const batch = plain(await read(f, true));
    // the number decides (decideLink), so one record's read leaves the candidates out; a batch's
    // read is for all its records at once and keeps them
    expect(batch.candidates.map((c) => c.localId)).toEqual(['h-namesake']);
    expect(one).toEqual({ ...batch, candidates: [] });
    expect(one.personByNhs.map(([nhs]) => nhs)).toEqual(['9990000018']);
    expect(one.nhsPersonRecords.map((r) => r.localId)).toEqual(['gp-rose', 'h-rose']);
  });

  it('reads the same for a record without an NHS number, but for the persons numbers it leaves out', async () => {
    const f = featuresOf(patientOf('o-1', ROSE) as Patient);
    const one = await read(f, false);
    const batch = await read(f, true);
    expect(plain(one)).toEqual(plain(batch, true));
    expect(plain(one).candidates.map((c) => c.localId)).toEqual([
      'gp-man-next-door',
      'gp-neighbour',
      'gp-rose',
      'h-namesake',
      'h-rose',
    ]);
    expect(one.candidates.every((c) => c.personNhs === undefined)).toBe(true);
    expect(batch.candidates.find((c) => c.localId === 'gp-rose')!.personNhs).toBe('9990000018');
  });

  it('finds the records of a person whose names a source recorded the other way round, having moved', async () => {
    const reversed = { ...ROSE, given: ROSE.family, family: ROSE.given, postcode: 'ND9 9ZZ' };
    const f = featuresOf(patientOf('o-1', reversed) as Patient);
    const one = await read(f, false);
    expect(plain(one)).toEqual(plain(await read(f, true), true));
    expect(plain(one).candidates.map((c) => c.localId)).toEqual(['gp-rose', 'h-namesake', 'h-rose']);
  });

  it("reads a known record's prior link, and reads for a decision only when its content changed", async () => {
    const f = featuresOf(patientOf('h-rose', ROSE) as Patient);
    const q = { ...queryFor(f, 'h-rose'), sourceId: 'hospital' };
    const person = (
      await t.db.query<{ person_id: string }>(
        `SELECT person_id FROM person_link WHERE source_id = 'hospital' AND local_id = 'h-rose'`,
      )
    ).rows[0]!.person_id;
    const same = await t.db.transaction((tx) => readOneRecord(tx, q, 'h-rose', lockKeys(f)));
    expect(same.prior).toMatchObject({ local_id: 'h-rose', person_id: person, content_hash: 'h-rose' });
    expect(same.reads).toBeUndefined();
    const changed = await t.db.transaction((tx) => readOneRecord(tx, q, 'h-rose v2', lockKeys(f)));
    expect(changed.prior).toEqual(same.prior);
    expect(plain(changed.reads!).candidates.map((c) => c.localId)).toContain('gp-rose');
    const fresh = await t.db.transaction((tx) =>
      readOneRecord(tx, { ...q, localIds: ['h-new'] }, 'x', lockKeys(f)),
    );
    expect(fresh.prior).toBeUndefined();
    expect(fresh.reads).toBeDefined();
  });
});
