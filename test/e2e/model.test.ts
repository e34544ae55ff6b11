/**
 * The viewer's model (viewer/src/model), without a browser: formats, grouping and conflicts,
 * current and past medications, trend series, notices, the copied reference, and reading PDF text.
 */
import { deflateSync } from 'node:zlib';
import type { Bundle, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { groupList, loadReconcileRules, reconcile, sourceItemOf } from '../../src/reconcile/index.ts';
import { parseRecord } from '../../viewer/src/model/record.ts';
import { describe, expect, it } from 'vitest';
import { renderPdf } from '../../src/generate/letters.ts';
import { formatAge, formatDate, formatNhsNumber } from '../../viewer/src/model/format.ts';
import { generalPractitioners } from '../../viewer/src/model/general-practitioner.ts';
import { groupItems } from '../../viewer/src/model/group.ts';
import { toItem, type Item } from '../../viewer/src/model/item.ts';
import { parseUkDate, toUkDate } from '../../viewer/src/model/filters.ts';
import { medicationGroups } from '../../viewer/src/model/medications.ts';
import { observationValue } from '../../viewer/src/model/observation.ts';
import { sectionAccess, sectionDef } from '../../viewer/src/model/sections.ts';
import { noticesOf, refusalOf } from '../../viewer/src/model/notices.ts';
import { pdfText } from '../../viewer/src/model/pdf-text.ts';
import { referenceText } from '../../viewer/src/model/reference.ts';
import { trendSeries } from '../../viewer/src/model/results.ts';

const PROV = 'https://sharedcare.dev/fhir/StructureDefinition/provenance';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** A resource as Sharedcare serves it: stamped with its organisation. */
function served(r: Record<string, unknown>, ods: string, name: string): Resource {
  return {
    ...r,
    meta: {
      source: `urn:sharedcare:source:${ods.toLowerCase()}`,
      tag: [{ system: ODS, code: ods, display: name }],
    },
    extension: [
      {
        url: PROV,
        extension: [
          { url: 'organisation', valueReference: { identifier: { system: ODS, value: ods }, display: name } },
          { url: 'received', valueInstant: '2026-01-01T00:00:00Z' },
        ],
      },
    ],
  } as unknown as Resource;
}
const GP = ['Y90001', 'Riverside Surgery'] as const;
const HOSP = ['RX1', 'Northgate Hospital'] as const;
const SCT = (code: string, display: string) => ({
  coding: [{ system: 'http://snomed.info/sct', code, display }],
});
const condition = (id: string, status: string, org: readonly [string, string]) =>
  toItem(
    served(
      {
        resourceType: 'Condition',
        id,
        code: SCT('38341003', 'Hypertension'),
        clinicalStatus: { coding: [{ code: status }] },
        onsetDateTime: '2020-01-01',
      },
      ...org,
    ),
  );
const hba1c = (id: string, value: number, date: string, org: readonly [string, string]) =>
  toItem(
    served(
      {
        resourceType: 'Observation',
        id,
        status: 'final',
        code: { ...SCT('1049301000000100', 'HbA1c level'), text: 'HbA1c' },
        effectiveDateTime: date,
        valueQuantity: { value, unit: 'mmol/mol' },
      },
      ...org,
    ),
  );
const med = (
  id: string,
  type: string,
  status: string,
  date: string,
  dose: string,
  org: readonly [string, string] = GP,
) =>
  toItem(
    served(
      {
        resourceType: type,
        id,
        status,
        medicationCodeableConcept: SCT('318900003', 'Ramipril 5mg capsules'),
        ...(type === 'MedicationRequest'
          ? { authoredOn: date, dosageInstruction: [{ text: dose }] }
          : { effectiveDateTime: date, dosage: [{ text: dose }] }),
      },
      ...org,
    ),
  );

describe('encounters', () => {
  it('name the attending clinician, else the first one the source named', () => {
    const role = (code: string) => [{ coding: [{ code }] }];
    const visit = (participant: unknown[]) =>
      toItem(
        served(
          {
            resourceType: 'Encounter',
            id: `v${participant.length}`,
            status: 'finished',
            class: { code: 'IMP' },
            period: { start: '2024-06-01T10:00:00Z' },
            participant,
          },
          ...HOSP,
        ),
      );
    const referrer = { type: role('REF'), individual: { display: 'Dr Gregory Townley' } };
    const attender = { type: role('ATND'), individual: { display: 'Dr Samuel Darwin' } };
    expect(visit([referrer, attender]).detail).toContain('Dr Samuel Darwin');
    expect(visit([referrer, attender]).detail).not.toContain('Townley');
    expect(visit([referrer]).detail).toContain('Dr Gregory Townley');
    expect(visit([]).detail).toBe('');
  });
});

describe('reports', () => {
  it('say who reported them, where the source named the clinician responsible', () => {
    const report = (resultsInterpreter?: unknown[]) =>
      toItem(
        served(
          {
            resourceType: 'DiagnosticReport',
            id: `r${resultsInterpreter?.length ?? 0}`,
            status: 'final',
            code: { text: 'CT head' },
            effectiveDateTime: '2024-06-05T09:00:00Z',
            ...(resultsInterpreter ? { resultsInterpreter } : {}),
          },
          ...HOSP,
        ),
      );
    expect(report([{ type: 'Practitioner', display: 'Dr Samuel Darwin' }]).detail).toContain(
      'reported by Dr Samuel Darwin',
    );
    expect(report().detail).not.toContain('reported by');
  });
});

describe('the banner’s GP', () => {
  const practice = { identifier: { system: ODS, value: 'Y01234' }, display: 'CASTLE SURGERY' };
  // as Sharedcare serves a clinician a source referred to: the name, and the entry it stands for
  const gp = {
    display: 'Dr Gregory Townley',
    extension: [
      {
        url: 'https://sharedcare.dev/fhir/StructureDefinition/directory-entry',
        valueString: 'Practitioner/d8be99ec',
      },
    ],
  };
  const of = (generalPractitioner: unknown[]) =>
    generalPractitioners({ resourceType: 'Patient', generalPractitioner } as Patient);

  it('shows the registered practice and the usual GP apart, in whichever order the source sent them', () => {
    expect(of([practice, gp])).toEqual({
      practice: 'CASTLE SURGERY (Y01234)',
      usualGp: 'Dr Gregory Townley',
    });
    expect(of([gp, practice])).toEqual({
      practice: 'CASTLE SURGERY (Y01234)',
      usualGp: 'Dr Gregory Townley',
    });
  });

  it('does not show a clinician as the practice when no practice was sent', () => {
    expect(of([gp])).toEqual({ usualGp: 'Dr Gregory Townley' });
    // a clinician an HL7 v2 feed named without an id: the reference says only that it is one
    expect(of([practice, { type: 'Practitioner', display: 'Dr Ada Okafor' }])).toEqual({
      practice: 'CASTLE SURGERY (Y01234)',
      usualGp: 'Dr Ada Okafor',
    });
    // the practice is the one with an ODS code, whatever else the source could not say
    expect(of([{ display: 'Dr Jones' }, practice])).toEqual({ practice: 'CASTLE SURGERY (Y01234)' });
    expect(of([{ reference: 'Practitioner/x', display: 'Dr A Jones' }])).toEqual({ usualGp: 'Dr A Jones' });
    expect(of([])).toEqual({});
  });
});

describe('formats', () => {
  it.each([
    ['9991234567', '999 123 4567'],
    ['999 123 4567', '999 123 4567'],
    ['12345', '12345'],
  ])('NHS number %s → %s', (n, out) => expect(formatNhsNumber(n)).toBe(out));
  it.each([
    ['2022-04-15', '15/04/2022'],
    ['2022-04', '04/2022'],
    ['2022', '2022'],
    ['2022-04-15T23:30:00Z', '16/04/2022'], // UK time (BST)
  ])('date %s → %s', (d, out) => expect(formatDate(d)).toBe(out));
  it('ages in years, months or weeks', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    expect(formatAge('1958-03-14', now)).toBe('68 years');
    expect(formatAge('2025-08-01', now)).toBe('15 months');
    expect(formatAge('2026-11-05', now)).toBe('3 weeks');
  });
});

/**
 * What the server sends for these resources (src/reconcile: its rules, its Lists), read back by the
 * viewer's parser: the viewer groups only as the server said.
 */
function fromServer(given: Item[]) {
  const resources = given.map((i) => i.resource);
  const items = resources.map((r) => sourceItemOf(r, 'person-1'));
  const lists = reconcile(items, loadReconcileRules())
    .filter((g) => g.itemIds.length > 1)
    .map((g) => groupList(g, 'person-1', '2026-11-26T00:00:00Z'));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [
      ...resources.map((resource) => ({ resource, search: { mode: 'match' as const } })),
      ...lists.map((resource) => ({ resource, search: { mode: 'include' as const } })),
    ],
  };
  return parseRecord(bundle).items;
}

describe('grouping what several sources report: as the server reconciled it', () => {
  it('makes one entry of the same problem from two organisations, and shows the server’s conflict', () => {
    const [g, ...rest] = groupItems(
      fromServer([condition('a', 'active', GP), condition('b', 'resolved', HOSP)]),
    );
    expect(rest).toEqual([]);
    expect(g!.sources.map((s) => s.orgName).sort()).toEqual(['Northgate Hospital', 'Riverside Surgery']);
    expect(g!.conflict).toBe('status: active (Riverside Surgery) vs resolved (Northgate Hospital)');
  });
  it('does not mark agreement as a conflict', () => {
    expect(
      groupItems(fromServer([condition('a', 'active', GP), condition('b', 'active', HOSP)]))[0]!.conflict,
    ).toBe(undefined);
  });
  it('does not group on its own: items the server did not group stay apart', () => {
    const items = [condition('a', 'active', GP), condition('b', 'active', HOSP)].map((i) => i.resource);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: items.map((resource) => ({ resource })),
    };
    expect(groupItems(parseRecord(bundle).items)).toHaveLength(2);
  });
  it('groups copies of one result, but not results on different days; a different value is a conflict', () => {
    const groups = groupItems(
      fromServer([
        hba1c('1', 48, '2022-04-15T09:30:00Z', GP),
        hba1c('2', 48, '2022-04-15T09:30:00Z', HOSP),
        hba1c('3', 50, '2023-04-15T09:30:00Z', GP),
        hba1c('4', 51, '2023-04-15T09:30:00Z', HOSP),
      ]),
    );
    expect(groups.map((g) => g.items.length)).toEqual([2, 2]);
    expect(groups[0]!.conflict).toMatch(/^value: 5[01] mmol\/mol \(.*\) vs 5[01] mmol\/mol \(.*\)$/);
    expect(groups[1]!.conflict).toBe(undefined);
  });
});

describe('medications', () => {
  const now = Date.parse('2026-11-26T00:00:00Z');
  it('folds repeat issues into one line; recent or active is current, and a different dose is a conflict', () => {
    const groups = medicationGroups(
      fromServer([
        med('s', 'MedicationStatement', 'active', '2015-06-01', 'One capsule once a day'),
        med('r1', 'MedicationRequest', 'completed', '2026-11-01', 'One capsule once a day'),
        med('r2', 'MedicationRequest', 'completed', '2026-10-01', 'One capsule once a day'),
        med('h', 'MedicationStatement', 'active', '2026-06-01', 'Two capsules once a day', HOSP),
      ]),
      now,
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ current: true, issues: 2, status: 'active' });
    expect(groups[0]!.conflict).toMatch(/^dose: /);
  });
  it('is past when no source lists it as active and it has not been issued for months', () => {
    const [g] = medicationGroups(
      fromServer([med('r', 'MedicationRequest', 'completed', '2019-11-02', 'x')]),
      now,
    );
    expect(g).toMatchObject({ current: false, status: 'completed' });
  });
});

it('draws one trend point for copies of one result from two sources', () => {
  const series = trendSeries([
    hba1c('1', 48, '2022-04-15T09:30:00Z', GP),
    hba1c('2', 48, '2022-04-15T09:30:00Z', HOSP),
    hba1c('3', 53, '2023-01-10T09:30:00Z', GP),
  ]);
  const s = [...series.values()][0]!;
  expect(s.count).toBe(2);
  expect(s.lines[0]!.points.map((p) => p.value)).toEqual([48, 53]);
});

it('copies a reference in the agreed form', () => {
  const item = hba1c('1', 48, '2022-04-15T09:30:00Z', HOSP);
  expect(referenceText(item, new Date('2022-08-23T10:00:00Z'))).toBe(
    'HbA1c 48 mmol/mol, Northgate Hospital, 15/04/2022, viewed on the Shared Care Record 23/08/2022',
  );
});

describe('notices and refusals', () => {
  it('classifies the gate’s notices', () => {
    const kinds = noticesOf({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'information',
          code: 'informational',
          diagnostics: 'This is … not the full record held by …',
        },
        { severity: 'warning', code: 'security', diagnostics: 'Access by break glass: …' },
        { severity: 'information', code: 'suppressed', diagnostics: 'The person has objected to sharing …' },
        {
          severity: 'information',
          code: 'informational',
          diagnostics: 'The person has objected to sharing X.',
        },
      ],
    }).map((n) => n.kind);
    expect(kinds).toEqual(['not-full-record', 'break-glass', 'withheld', 'objection']);
  });
  it('offers break glass only when the refusal says it is possible', () => {
    const outcome = (diagnostics: string) => ({
      resourceType: 'OperationOutcome' as const,
      issue: [{ severity: 'error' as const, code: 'forbidden' as const, diagnostics }],
    });
    expect(refusalOf(outcome('no relationship. In an emergency you may break the glass')).breakGlass).toBe(
      true,
    );
    expect(refusalOf(outcome('organisation X does not view the record')).breakGlass).toBe(false);
  });
});

describe('reading PDF letters', () => {
  it('reads the text of an uncompressed PDF (the synthetic generator’s)', async () => {
    const pdf = renderPdf('Northgate Hospital\nDISCHARGE SUMMARY\nGP actions: (none).');
    const text = await pdfText(Buffer.from(pdf, 'latin1'));
    expect(text.readable).toBe(true);
    expect(text.lines).toEqual(['Northgate Hospital', 'DISCHARGE SUMMARY', 'GP actions: (none).']);
  });
  it('reads FlateDecode content with TJ arrays, and says when there is no text', async () => {
    const content = 'BT /F1 11 Tf 50 790 Td [(Seen in ) -250 (clinic.)] TJ T* (Next line) Tj ET';
    const z = deflateSync(Buffer.from(content, 'latin1'));
    const pdf = Buffer.concat([
      Buffer.from(`%PDF-1.4\n4 0 obj\n<< /Length ${z.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'),
      z,
      Buffer.from('\nendstream\nendobj\n%%EOF\n', 'latin1'),
    ]);
    expect((await pdfText(pdf)).lines).toEqual(['Seen in clinic.', 'Next line']);
    expect((await pdfText(Buffer.from('%PDF-1.4\n%%EOF\n'))).readable).toBe(false);
  });
});

describe('dates typed in the filter bar', () => {
  it.each([
    ['01/06/2023', '2023-06-01'],
    ['1/6/2023', '2023-06-01'],
    ['13.01.2010', '2010-01-13'],
    ['29-02-2024', '2024-02-29'],
    ['2023-06-01', '2023-06-01'],
    ['  ', ''],
    ['31/02/2024', undefined],
    ['06/13/2023', undefined],
    ['01/06/23', undefined],
  ])('reads "%s" day/month/year as %s', (typed, iso) => {
    expect(parseUkDate(typed)).toBe(iso);
  });

  it('shows a date back as day/month/year', () => {
    expect(toUkDate('2023-06-01')).toBe('01/06/2023');
    expect(toUkDate('')).toBe('');
  });
});

describe('what a role may see, as the server said', () => {
  const problems = sectionDef('problems')!;
  const encounters = sectionDef('encounters')!;
  it('says a section is not for the role, in part, or all of it; and claims nothing without word from the server', () => {
    expect(sectionAccess(problems, ['appointments'])).toEqual({ level: 'none', shown: [] });
    expect(sectionAccess(encounters, ['appointments'])).toEqual({ level: 'part', shown: ['appointments'] });
    expect(sectionAccess(encounters, ['encounters', 'appointments']).level).toBe('all');
    expect(sectionAccess(problems, undefined).level).toBe('all');
    expect(sectionAccess(sectionDef('summary')!, []).level).toBe('all');
  });
});

describe('result values', () => {
  const obs = (value: Partial<Observation>) =>
    observationValue({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...value });
  it('show a titre as a ratio, a range as a range and an integer as a number', () => {
    expect(obs({ valueRatio: { numerator: { value: 1 }, denominator: { value: 128 } } }).value).toBe('1:128');
    expect(
      obs({ valueRange: { low: { value: 10, unit: 'mmol/L' }, high: { value: 20, unit: 'mmol/L' } } }).value,
    ).toBe('10–20 mmol/L');
    expect(obs({ valueInteger: 3 }).value).toBe('3');
  });
});
