import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import { isSharedcareError } from '../../errors/index.ts';
import type { SourceSystem } from '../../region/index.ts';
import { linker, stageDatabase } from './db.test-kit.ts';
import { condition, entries, patient, runOf } from './fixtures.test-kit.ts';
import { linkPersons } from './link-persons.ts';
import { resolveItems, resolvePersons } from './resolve-references.ts';

describe('resolve-references stage', () => {
  let db: Database;
  let source: SourceSystem;
  beforeAll(async () => ({ db, source } = await stageDatabase()));
  afterAll(async () => db.close());

  it("finds the person of a patient sent in an earlier request and points the item's subject at it", async () => {
    const earlier = runOf(entries(patient('p1')), source);
    await db.transaction((tx) => linkPersons(tx, linker(), earlier));
    const person = earlier.personByLocal.get('p1')!;

    const run = runOf(entries(condition('c1', 'Patient/p1')), source);
    await db.transaction((tx) => resolvePersons(tx, linker(), run));
    const [item] = resolveItems(run);
    expect(item).toMatchObject({ i: 0, localId: 'c1', personId: person, localPatientId: 'p1' });
    expect((item!.resource as { subject: { reference: string } }).subject.reference).toBe(
      `Patient/${person}`,
    );
  });

  it('refuses the whole request, naming each item, when a patient was never sent', async () => {
    const run = runOf(entries(condition('c1', 'Patient/nobody'), condition('c2', 'Patient/nobody2')), source);
    await db.transaction((tx) => resolvePersons(tx, linker(), run));
    let problems: unknown[] = [];
    try {
      resolveItems(run);
    } catch (err) {
      if (!isSharedcareError(err)) throw err;
      problems = err.problems.map((p) => p.expression);
    }
    expect(problems).toEqual(['Bundle.entry[0].resource.subject', 'Bundle.entry[1].resource.subject']);
  });
});
