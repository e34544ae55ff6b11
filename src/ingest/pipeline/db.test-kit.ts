/** A migrated embedded database with one hospital and its source, for the stages that write. */
import { migrate, openDatabase, type Database } from '../../db/index.ts';
import { createPersonLinker, loadMatchRules } from '../../identity/index.ts';
import { getSource, upsertOrganisation, upsertSource, type SourceSystem } from '../../region/index.ts';

export async function stageDatabase(): Promise<{ db: Database; source: SourceSystem }> {
  const db = await openDatabase({});
  await migrate(db);
  await upsertOrganisation(db, {
    ods: 'RX1',
    name: 'Northdale General Hospital',
    kind: 'acute',
    contributes: true,
  });
  await upsertSource(db, { id: 'pas-test', org: 'RX1', kind: 'fhir' });
  return { db, source: (await getSource(db, 'pas-test'))! };
}

export const linker = () => createPersonLinker(loadMatchRules(undefined));
