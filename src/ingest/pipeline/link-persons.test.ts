import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import type { SourceSystem } from '../../region/index.ts';
import { linker, stageDatabase } from './db.test-kit.ts';
import { entries, patient, runOf } from './fixtures.test-kit.ts';
import { linkPersons } from './link-persons.ts';

describe('link-to-a-person stage', () => {
  let db: Database;
  let source: SourceSystem;
  beforeAll(async () => ({ db, source } = await stageDatabase()));
  afterAll(async () => db.close());

  it('links each Patient to a person, once per local id (the last entry wins), and says so per entry', async () => {
    const run = runOf(entries(patient('p1'), patient('p1', '1970-01-02')), source);
    const { links, patients } = await db.transaction((tx) => linkPersons(tx, linker(), run));
    expect(links).toHaveLength(1);
    expect(patients.get('p1')?.birthDate).toBe('1970-01-02');
    const person = run.personByLocal.get('p1');
    expect(person).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.results.map((r) => [r.action, r.id])).toEqual([
      ['linked', person],
      ['linked', person],
    ]);
  });

  it('reports a re-send of the same record as unchanged, on the same person', async () => {
    const first = runOf(entries(patient('p2')), source);
    await db.transaction((tx) => linkPersons(tx, linker(), first));
    const again = runOf(entries(patient('p2')), source);
    await db.transaction((tx) => linkPersons(tx, linker(), again));
    expect(again.results[0]).toMatchObject({ action: 'unchanged', id: first.personByLocal.get('p2') });
  });
});
