/**
 * The shipped rules, by table: which pairs of items are one thing, which stay apart, and which
 * disagreements are conflicts.
 */
import { describe, expect, it } from 'vitest';
import type { SourceItem } from './fields.ts';
import { loadReconcileRules, parseReconcileRules } from './rules.ts';
import { reconcile } from './reconcile.ts';
import {
  allergy,
  concept,
  GP,
  HOSPITAL,
  item,
  LAB,
  letter,
  medication,
  orgRef,
  SNOMED,
} from './test-items.ts';

const rules = loadReconcileRules();

const condition = (code: string, display: string, status = 'active', extra = {}) => ({
  resourceType: 'Condition',
  code: concept(SNOMED, code, display),
  clinicalStatus: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: status }],
  },
  ...extra,
});
const appointment = (start: string, status = 'fulfilled', extra = {}) => ({
  resourceType: 'Appointment',
  status,
  start,
  serviceType: [concept(SNOMED, '394583002', 'Endocrinology')],
  participant: [{ actor: { reference: 'Patient/x' }, status: 'accepted' }],
  ...extra,
});
const encounter = (start: string, provider = HOSPITAL, extra = {}) => ({
  resourceType: 'Encounter',
  status: 'finished',
  class: { code: 'AMB' },
  period: { start },
  serviceProvider: orgRef(provider),
  ...extra,
});
const hba1c = (when: string, value: number) => ({
  resourceType: 'Observation',
  status: 'final',
  code: concept(SNOMED, '1049301000000100', 'HbA1c level'),
  effectiveDateTime: when,
  valueQuantity: { value, unit: 'mmol/mol' },
});

interface Case {
  name: string;
  items: [SourceItem, SourceItem];
  same: boolean;
  /** the conflicting field, if the two disagree */
  conflict?: string;
}

const cases: Case[] = [
  {
    name: 'a medicine by dm+d code from GP and hospital, same dose',
    items: [
      item(
        GP,
        medication('MedicationStatement', '322236009', 'Metformin 500mg tablets', '1 tablet twice a day'),
      ),
      item(
        HOSPITAL,
        medication('MedicationRequest', '322236009', 'Metformin 500 mg tablet', 'One tablet twice a day'),
      ),
    ],
    same: true,
  },
  {
    name: 'a medicine by code, different doses: a conflict',
    items: [
      item(
        GP,
        medication('MedicationStatement', '322236009', 'Metformin 500mg tablets', '1 tablet twice a day'),
      ),
      item(HOSPITAL, medication('MedicationRequest', '322236009', 'Metformin', '2 tablets twice a day')),
    ],
    same: true,
    conflict: 'dose',
  },
  {
    name: 'an uncoded medicine by its normalised name',
    items: [
      item(GP, {
        resourceType: 'MedicationStatement',
        medicationCodeableConcept: { text: 'Ramipril 5mg capsules' },
      }),
      item(HOSPITAL, {
        resourceType: 'MedicationStatement',
        medicationCodeableConcept: { text: 'RAMIPRIL  5mg  Capsules.' },
      }),
    ],
    same: true,
  },
  {
    name: 'two different medicines',
    items: [
      item(GP, medication('MedicationStatement', '322236009', 'Metformin', 'x')),
      item(HOSPITAL, medication('MedicationStatement', '318858002', 'Ramipril', 'x')),
    ],
    same: false,
  },
  {
    name: 'an allergy by substance code, both confirmed',
    items: [
      item(GP, allergy('764146007', 'Penicillin')),
      item(HOSPITAL, allergy('764146007', 'Penicillin allergy')),
    ],
    same: true,
  },
  {
    name: 'an allergy recorded by the GP and refuted by the hospital: a conflict',
    items: [
      item(GP, allergy('764146007', 'Penicillin')),
      item(HOSPITAL, allergy('764146007', 'Penicillin', 'refuted')),
    ],
    same: true,
    conflict: 'verification',
  },
  {
    name: 'an allergy recorded (unconfirmed) and recorded (confirmed): not a conflict',
    items: [
      item(GP, allergy('764146007', 'Penicillin', 'unconfirmed')),
      item(HOSPITAL, allergy('764146007', 'Penicillin', 'confirmed')),
    ],
    same: true,
  },
  {
    name: 'an allergy with no verification and one refuted: a conflict',
    items: [
      item(GP, { ...allergy('764146007', 'Penicillin'), verificationStatus: undefined }),
      item(HOSPITAL, allergy('764146007', 'Penicillin', 'refuted')),
    ],
    same: true,
    conflict: 'verification',
  },
  {
    name: 'allergies to different substances',
    items: [item(GP, allergy('764146007', 'Penicillin')), item(HOSPITAL, allergy('387207008', 'Ibuprofen'))],
    same: false,
  },
  {
    name: 'a problem by SNOMED code',
    items: [
      item(GP, condition('38341003', 'Hypertension')),
      item(HOSPITAL, condition('38341003', 'Hypertensive disorder')),
    ],
    same: true,
  },
  {
    name: 'a problem active at the GP and resolved at the hospital: a conflict',
    items: [
      item(GP, condition('38341003', 'Hypertension')),
      item(HOSPITAL, condition('38341003', 'HTN', 'resolved')),
    ],
    same: true,
    conflict: 'clinical-status',
  },
  {
    name: "the GP's copy of a hospital letter: same type, date, author and title",
    items: [
      item(HOSPITAL, letter(HOSPITAL, '2026-03-10T14:00:00Z', 'Endocrinology clinic letter')),
      item(GP, letter(HOSPITAL, '2026-03-10T09:30:00Z', 'Endocrinology Clinic Letter')),
    ],
    same: true,
  },
  {
    name: 'two letters of one clinic on different days',
    items: [
      item(HOSPITAL, letter(HOSPITAL, '2026-03-10T14:00:00Z', 'Endocrinology clinic letter')),
      item(GP, letter(HOSPITAL, '2026-04-10T14:00:00Z', 'Endocrinology clinic letter')),
    ],
    same: false,
  },
  {
    name: 'letters of the same title and day by different authors',
    items: [
      item(HOSPITAL, letter(HOSPITAL, '2026-03-10T14:00:00Z', 'Clinic letter')),
      item(GP, letter(GP, '2026-03-10T14:00:00Z', 'Clinic letter')),
    ],
    same: false,
  },
  {
    name: 'one document by content hash, whatever its title',
    items: [
      item(
        HOSPITAL,
        letter(HOSPITAL, '2026-03-10T14:00:00Z', 'Discharge summary', {
          content: [{ attachment: { hash: 'qUqP5cyxm6YcTAhz05Hph5gvu9M=' } }],
        }),
      ),
      item(
        GP,
        letter(HOSPITAL, '2026-03-11T10:00:00Z', 'Hospital discharge', {
          content: [{ attachment: { hash: 'qUqP5cyxm6YcTAhz05Hph5gvu9M=' } }],
        }),
      ),
    ],
    same: true,
  },
  {
    name: 'an appointment and the attendance it became (same organisation, within the hour)',
    items: [
      item(HOSPITAL, appointment('2026-03-03T10:00:00Z')),
      item(HOSPITAL, encounter('2026-03-03T10:20:00Z')),
    ],
    same: true,
  },
  {
    name: 'a hospital appointment the GP sent, naming the hospital, and the hospital attendance',
    items: [
      item(
        GP,
        appointment('2026-03-03T10:00:00Z', 'booked', {
          participant: [{ actor: orgRef(HOSPITAL), status: 'accepted' }],
        }),
      ),
      item(HOSPITAL, encounter('2026-03-03T10:05:00Z')),
    ],
    same: true,
  },
  {
    name: 'an appointment and an attendance hours apart',
    items: [
      item(HOSPITAL, appointment('2026-03-03T10:00:00Z')),
      item(HOSPITAL, encounter('2026-03-03T14:00:00Z')),
    ],
    same: false,
  },
  {
    name: 'a cancelled appointment is no visit',
    items: [
      item(HOSPITAL, appointment('2026-03-03T10:00:00Z', 'cancelled')),
      item(HOSPITAL, encounter('2026-03-03T10:00:00Z')),
    ],
    same: false,
  },
  {
    name: 'an appointment at the GP and an attendance at the hospital at the same time',
    items: [item(GP, appointment('2026-03-03T10:00:00Z')), item(HOSPITAL, encounter('2026-03-03T10:00:00Z'))],
    same: false,
  },
  {
    name: 'two attendances within the hour (two visits, not one)',
    items: [
      item(HOSPITAL, encounter('2026-03-03T10:00:00Z')),
      item(HOSPITAL, encounter('2026-03-03T10:30:00Z')),
    ],
    same: false,
  },
  {
    name: "the lab's result and the hospital's copy at the same minute",
    items: [item(LAB, hba1c('2026-02-01T09:15:00Z', 48)), item(HOSPITAL, hba1c('2026-02-01T09:15:30Z', 48))],
    same: true,
  },
  {
    name: 'the same result with different values: a conflict',
    items: [item(LAB, hba1c('2026-02-01T09:15:00Z', 48)), item(HOSPITAL, hba1c('2026-02-01T09:15:00Z', 84))],
    same: true,
    conflict: 'value',
  },
  {
    name: 'the same test on different days',
    items: [item(LAB, hba1c('2026-02-01T09:15:00Z', 48)), item(HOSPITAL, hba1c('2026-05-01T09:15:00Z', 48))],
    same: false,
  },
  {
    name: 'the same allergy of two different people',
    items: [
      item(GP, allergy('764146007', 'Penicillin'), 'person-a'),
      item(HOSPITAL, allergy('764146007', 'Penicillin'), 'person-b'),
    ],
    same: false,
  },
  {
    name: 'a problem and an allergy of the same code (different kinds of thing)',
    items: [
      item(GP, condition('764146007', 'Penicillin')),
      item(HOSPITAL, allergy('764146007', 'Penicillin')),
    ],
    same: false,
  },
];

describe('reconciliation rules (config/reconcile-rules.json)', () => {
  it.each(cases)('$name', ({ items, same, conflict }) => {
    const groups = reconcile(items, rules);
    expect(groups.length).toBe(same ? 1 : 2);
    const conflicts = groups.flatMap((g) => g.conflicts.map((c) => c.field));
    expect(conflicts).toEqual(conflict ? [conflict] : []);
  });

  it('shows every source of a group: organisation, date and original wording, newest first', () => {
    const [g] = reconcile(
      [
        item(GP, { ...allergy('764146007', 'Penicillin'), recordedDate: '2019-01-02' }),
        item(HOSPITAL, {
          ...allergy('764146007', 'Penicillin allergy', 'refuted'),
          recordedDate: '2026-05-06',
        }),
      ],
      rules,
    );
    expect(g!.mentions).toEqual([
      expect.objectContaining({
        sourceOrg: 'RX1',
        sourceOrgName: 'Northgate Hospital',
        date: '2026-05-06T00:00:00.000Z',
        wording: 'Penicillin allergy',
      }),
      expect.objectContaining({
        sourceOrg: 'Y90001',
        sourceOrgName: 'Riverside Surgery',
        date: '2019-01-02T00:00:00.000Z',
        wording: 'Penicillin',
      }),
    ]);
    expect(g!.conflicts[0]!.positions.map((p) => [p.value, p.sourceOrgs])).toEqual([
      ['refuted', ['RX1']],
      ['confirmed', ['Y90001']],
    ]);
  });

  it("compares each source's newest word: a dose the GP changed is not a conflict with the GP's older issue", () => {
    const groups = reconcile(
      [
        item(
          GP,
          medication('MedicationRequest', '322236009', 'Metformin', '1 tablet daily', {
            authoredOn: '2025-01-01',
          }),
        ),
        item(
          GP,
          medication('MedicationRequest', '322236009', 'Metformin', '2 tablets daily', {
            authoredOn: '2026-01-01',
          }),
        ),
        item(
          HOSPITAL,
          medication('MedicationStatement', '322236009', 'Metformin', '2 tablets daily', {
            dateAsserted: '2026-02-01',
          }),
        ),
      ],
      rules,
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]!.conflicts).toEqual([]);
  });

  it('refuses rules that are not valid, saying where', () => {
    expect(() =>
      parseReconcileRules({
        version: '1',
        rules: [{ id: 'x', label: 'x', types: ['Condition'], sameWhen: [['colour']] }],
      }),
    ).toThrow(/not valid/);
    const twice = {
      version: '1',
      rules: [
        { id: 'a', label: 'a', types: ['Condition'], sameWhen: [['code']] },
        { id: 'b', label: 'b', types: ['Condition'], sameWhen: [['text']] },
      ],
    };
    try {
      parseReconcileRules(twice);
      expect.unreachable();
    } catch (err) {
      expect(JSON.stringify(err)).toContain('already reconciled by rule');
    }
  });
});
