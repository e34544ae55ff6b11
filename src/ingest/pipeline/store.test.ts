import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import type { SourceSystem } from '../../region/index.ts';
import type { Entry } from '../parse.ts';
import { linker, stageDatabase } from './db.test-kit.ts';
import { condition, entries, patient, runOf } from './fixtures.test-kit.ts';
import { linkPersons } from './link-persons.ts';
import { resolveItems } from './resolve-references.ts';
import { lastPerItem, storeItems, touchedPersons } from './store.ts';
import { toItemWrite } from './stored-item.ts';
import type { IntakeRun } from './types.ts';

describe('store stage', () => {
  let db: Database;
  let source: SourceSystem;
  beforeAll(async () => ({ db, source } = await stageDatabase()));
  afterAll(async () => db.close());

  const store = (list: Entry[]) =>
    db.transaction(async (tx) => {
      const run: IntakeRun = runOf(list, source);
      await linkPersons(tx, linker(), run);
      const drafts = resolveItems(run).map((r) => ({
        i: r.i,
        item: toItemWrite(source, r, run.receivedAt),
        sent: r.resource,
      }));
      const stored = await storeItems(tx, run, lastPerItem(run, drafts));
      return { run, stored, persons: touchedPersons(stored) };
    });

  it('writes each item once (a later entry supersedes an earlier one), then finds a re-send unchanged', async () => {
    const list = () =>
      entries(patient('p1'), condition('c1', 'Patient/p1', '1'), condition('c1', 'Patient/p1', '2'));
    const first = await store(list());
    expect(first.run.results.map((r) => r.action)).toEqual(['linked', 'ignored', 'created']);
    expect(first.run.results[1]!.note).toMatch(/superseded/);
    expect(first.persons).toEqual([first.run.personByLocal.get('p1')]);
    const again = await store(list());
    expect(again.run.results[2]).toMatchObject({ action: 'unchanged', version: 1 });
  });

  it('takes a DELETE entry out of the view and says when there was nothing to delete', async () => {
    const del = (id: string): Entry => ({
      at: `Bundle.entry[1]`,
      method: 'DELETE',
      target: { type: 'Condition', id },
    });
    const { run, persons } = await store([...entries(patient('p1')), del('c1')]);
    expect(run.results[1]).toMatchObject({ action: 'deleted', version: 2 });
    expect(persons).toEqual([run.personByLocal.get('p1')]);
    const none = await store([...entries(patient('p1')), del('never-sent')]);
    expect(none.run.results[1]).toMatchObject({ action: 'not-found', note: 'nothing to delete' });
  });
});
