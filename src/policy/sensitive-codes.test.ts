import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPolicy, isValidSctId } from './index.ts';

function file(name: string, text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'codes-'));
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('loading never-shared code lists', () => {
  it('skips and reports codes that spreadsheets mangled, keeping the good ones', () => {
    const csv = file(
      'list.csv',
      [
        'category,system,code,display',
        'hiv_aids,http://snomed.info/sct,86406008,HIV infection',
        'sexually_transmitted_disease,SNOMED CT,1.03E+15,mangled by a spreadsheet',
        'sexually_transmitted_disease,SNOMED CT,1030000000000000,digits but not a valid SCTID',
        'sexually_transmitted_disease,SNOMED CT,15628003,Gonorrhea',
        ',SNOMED CT,76272004,no category',
      ].join('\n'),
    );
    const policy = createPolicy([csv]);
    expect(policy.codeCount).toBe(2);
    expect(policy.problems).toHaveLength(3);
    expect(policy.problems[0]).toMatch(/list\.csv: row 3: code "1\.03E\+15" is not a valid/);
    expect(policy.classify(['http://snomed.info/sct|15628003'], [])).toEqual([
      'sexually_transmitted_disease',
    ]);
  });

  it('reads a FHIR ValueSet, naming the category after the file', () => {
    const vs = file(
      'Termination_of_pregnancy_vs.json',
      JSON.stringify({
        resourceType: 'ValueSet',
        compose: {
          include: [
            { system: 'http://snomed.info/sct', concept: [{ code: '714812005' }, { code: '1.2E+10' }] },
          ],
        },
      }),
    );
    const policy = createPolicy([vs]);
    expect(policy.codeCount).toBe(1);
    expect(policy.problems).toHaveLength(1);
    expect(policy.classify(['http://snomed.info/sct|714812005'], [])).toEqual(['termination_of_pregnancy']);
  });

  it('gives a new version when the lists change, and the same version when they do not', () => {
    const a = file('a.csv', 'category,system,code\nhiv_aids,SNOMED CT,86406008\n');
    const b = file(
      'b.csv',
      'category,system,code\nhiv_aids,SNOMED CT,86406008\nhiv_aids,SNOMED CT,165816005\n',
    );
    expect(createPolicy([a]).version).toBe(createPolicy([a]).version);
    expect(createPolicy([a]).version).not.toBe(createPolicy([b]).version);
  });

  it('knows the system names published lists use, reports names it does not know, and keeps every category of a code', () => {
    const csv = file(
      'names.csv',
      [
        'category,code_system,code,display',
        'hiv_aids,CTV3 (Read v3),43C3.,HIV positive',
        'hiv_aids,EMIS local codes,EMISNQHI1,HIV',
        'hiv_aids,Some Local Scheme,X1,unknown system',
        'hiv_aids,SNOMED CT,86406008,HIV infection',
        'sexually_transmitted_disease,SNOMED CT,86406008,HIV infection',
      ].join('\n'),
    );
    const policy = createPolicy([csv]);
    expect(policy.problems).toEqual([
      expect.stringMatching(/row 4: unknown code system "Some Local Scheme"/),
    ]);
    expect(policy.classify(['http://read.info/ctv3|43C3.'], [])).toEqual(['hiv_aids']);
    expect(policy.classify(['https://fhir.hl7.org.uk/Id/emis-code|EMISNQHI1'], [])).toEqual(['hiv_aids']);
    expect(policy.classify(['http://snomed.info/sct|86406008'], [])).toEqual([
      'hiv_aids',
      'sexually_transmitted_disease',
    ]);
  });

  it('refuses a list it cannot read, naming it', () => {
    expect(() => createPolicy(['/nonexistent/list.csv'])).toThrow(/\/nonexistent\/list\.csv/);
  });

  it.each([
    ['86406008', true],
    ['38341003', true],
    ['999004371000000100', true],
    ['86406009', false],
    ['1030000000000000', false],
    ['12345', false],
  ])('SNOMED CT id %s valid=%s (Verhoeff check digit)', (id, ok) => expect(isValidSctId(id)).toBe(ok));
});
