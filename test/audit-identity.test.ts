/** Identity changes are in the audit trail: a source record linked, and one moved to another person. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, patient } from './fhir-data.ts';
import { personIdFor, postFhir } from './http.ts';

describe.each(DB_KINDS)('identity events on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r?.drop());

  const events = async (action: string) =>
    (
      await r.db.query<{ person: string }>(
        `SELECT person_id AS person FROM audit_event WHERE action = $1 ORDER BY at`,
        [action],
      )
    ).rows.map((e) => e.person);

  it('records a link when a source record first joins a person, and nothing for a re-send', async () => {
    await postFhir(r, 'gp-riverside', bundle('batch', [patient('p1', '9990000018')]));
    const person = await personIdFor(r, '9990000018');
    expect(await events('identity.link')).toEqual([person]);
    await postFhir(r, 'gp-riverside', bundle('batch', [patient('p1', '9990000018')]));
    expect(await events('identity.link')).toEqual([person]);
  });

  it('records a split from the old person and a link to the new one when a record moves', async () => {
    const before = await personIdFor(r, '9990000018');
    // the practice corrects the NHS number on its record
    await postFhir(r, 'gp-riverside', bundle('batch', [patient('p1', '9990000026')]));
    const after = await personIdFor(r, '9990000026');
    expect(after).not.toBe(before);
    expect(await events('identity.split')).toEqual([before]);
    expect((await events('identity.link')).at(-1)).toBe(after);
    const { rows } = await r.db.query<{ event: string }>(
      `SELECT event FROM audit_event WHERE action = 'identity.split'`,
    );
    expect(rows[0]!.event).not.toContain('9990000');
  });
});
