import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPolicy } from './index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-formats-'));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};
const SCT = 'http://snomed.info/sct';

describe('code list formats and the SNOMED CT hierarchy', () => {
  it('withholds the descendants of a listed concept, from an ancestor,descendant file and an RF2 relationship file', () => {
    const list = file('list.csv', 'category,system,code\nhiv_aids,SNOMED CT,86406008\n');
    const csv = file('hierarchy.csv', 'ancestor,descendant\n86406008,62479008\n');
    // RF2: id effectiveTime active moduleId sourceId destinationId relationshipGroup typeId …
    const rf2 = file(
      'sct2_Relationship_Snapshot_GB.txt',
      [
        'id\teffectiveTime\tactive\tmoduleId\tsourceId\tdestinationId\trelationshipGroup\ttypeId\tcharacteristicTypeId\tmodifierId',
        '1\t20200101\t1\t900000000000207008\t12741002\t62479008\t0\t116680003\t900000000000011006\t900000000000451002',
        '2\t20200101\t0\t900000000000207008\t14249000\t62479008\t0\t116680003\t900000000000011006\t900000000000451002',
        '3\t20200101\t1\t900000000000207008\t38341003\t86406008\t0\t363698007\t900000000000011006\t900000000000451002',
      ].join('\n'),
    );
    const policy = createPolicy([list, csv, rf2]);
    expect(policy.problems).toEqual([]);
    expect(policy.classify([`${SCT}|62479008`], [])).toEqual(['hiv_aids']); // child
    expect(policy.classify([`${SCT}|12741002`], [])).toEqual(['hiv_aids']); // grandchild (RF2 is-a)
    expect(policy.classify([`${SCT}|14249000`], [])).toEqual([]); // inactive relationship
    expect(policy.classify([`${SCT}|38341003`], [])).toEqual([]); // not an is-a relationship
  });

  it('reads an RF2 simple refset file, active members only', () => {
    const refset = file(
      'der2_Refset_SimpleSnapshot.txt',
      [
        'id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId',
        'a\t20200101\t1\t999000011000000103\t999004371000000100\t52637005',
        'b\t20200101\t0\t999000011000000103\t999004371000000100\t38341003',
      ].join('\n'),
    );
    const policy = createPolicy([refset]);
    expect(policy.problems).toEqual([]);
    expect(policy.codeCount).toBe(1);
    expect(policy.classify([`${SCT}|52637005`], [])).not.toEqual([]);
    expect(policy.classify([`${SCT}|38341003`], [])).toEqual([]); // an inactive member
  });

  it('reports a row with an unquoted comma instead of misreading its columns', () => {
    const bad = file(
      'bad.csv',
      'category,system,code,display,match\nx,atc,G03GA,Gonadotrophins (a, b),prefix\n',
    );
    expect(createPolicy([bad]).problems).toEqual([
      expect.stringMatching(/bad\.csv: row 2: more fields than the header/),
    ]);
  });
});
