import { describe, expect, it } from 'vitest';
import { defaultAuditConfig } from '../config/index.ts';
import { evaluateRules, isOutOfHours, localTime, splitName, type PersonFacts } from './alert-rules.ts';
import type { AuditEvent } from './types.ts';

const S = defaultAuditConfig('/tmp').alerts;
const WEEKDAY_NOON = '2026-03-04T12:00:00.000Z'; // a Wednesday, 12:00 in London (GMT)
const base: AuditEvent = {
  action: 'record.open',
  outcome: 'success',
  at: WEEKDAY_NOON,
  personId: '6f1b8a0e-0000-4000-8000-000000000001',
  user: { id: 'dr.x', org: 'RX1', role: 'R8000', name: 'Dr Sam Jones' },
  basis: 'registered-gp',
  reasons: [],
};
const person = (over: Partial<PersonFacts> = {}): PersonFacts => ({
  nhsNumber: '9990000018',
  names: [{ family: 'Smith', given: ['Alex'] }],
  postcodes: ['LS1 4AP'],
  securityCodes: [],
  ...over,
});
const rules = (e: Partial<AuditEvent>, facts = {}, s = S) =>
  evaluateRules({ ...base, ...e }, s, facts).map((a) => a.rule);

describe('alert rules', () => {
  it('raises nothing for an ordinary open in working hours', () => {
    expect(rules({}, { person: person(), recent: { persons: 2, includesThis: false } })).toEqual([]);
  });

  it('raises break glass for every grant, and no-relationship for refusals and reads under break glass', () => {
    expect(rules({ action: 'break-glass', reasons: ['break-glass', 'emergency-care'] })).toEqual([
      'break-glass',
    ]);
    expect(rules({ action: 'access.refused', outcome: 'refused', reasons: ['no-relationship'] })).toEqual([
      'no-relationship',
    ]);
    expect(rules({ basis: 'break-glass', reasons: ['break-glass'] })).toEqual(['no-relationship']);
    expect(rules({ action: 'access.refused', outcome: 'refused', reasons: ['org-not-viewing'] })).toEqual([]);
  });

  it('raises an objection override always', () => {
    expect(rules({ action: 'objection.override', personId: undefined })).toEqual(['objection-override']);
  });

  it('knows working hours in London across summer time, weekends and holidays', () => {
    const oh = S.outOfHours;
    expect(isOutOfHours(new Date('2026-07-01T07:30:00Z'), oh)).toBe(false); // 08:30 BST
    expect(isOutOfHours(new Date('2026-01-14T07:30:00Z'), oh)).toBe(true); // 07:30 GMT
    expect(isOutOfHours(new Date('2026-01-14T18:29:00Z'), oh)).toBe(false);
    expect(isOutOfHours(new Date('2026-01-14T18:30:00Z'), oh)).toBe(true);
    expect(isOutOfHours(new Date('2026-03-07T12:00:00Z'), oh)).toBe(true); // a Saturday
    expect(isOutOfHours(new Date('2026-12-25T12:00:00Z'), { ...oh, holidays: ['2026-12-25'] })).toBe(true);
    expect(rules({ at: '2026-03-04T22:15:00.000Z' })).toEqual(['out-of-hours']);
    const exempt = { ...S, outOfHours: { ...S.outOfHours, exemptOrganisations: ['RX1'] } };
    expect(rules({ at: '2026-03-04T22:15:00.000Z' }, {}, exempt)).toEqual([]);
  });

  it('tells a possible own record from a shared surname, titles and accents aside', () => {
    expect(splitName('Dr Sam Jones')).toEqual({ given: ['sam'], family: 'jones' });
    expect(splitName('Prof. Zoë Brontë')).toEqual({ given: ['zoe'], family: 'bronte' });
    expect(splitName('Jones')).toBeUndefined();
    expect(rules({}, { person: person({ names: [{ family: 'JONES', given: ['Sam'] }] }) })).toEqual([
      'own-record',
    ]);
    expect(rules({}, { person: person({ names: [{ family: 'Jones', given: ['Kim'] }] }) })).toEqual([
      'same-surname',
    ]);
    expect(
      rules(
        { user: { ...base.user!, name: undefined } },
        { person: person({ names: [{ family: 'Jones', given: [] }] }) },
      ),
    ).toEqual([]);
  });

  it('tells a relative or neighbour (surname and home postcode) from a mere shared surname', () => {
    const jones = person({ names: [{ family: 'Jones', given: ['Kim'] }], postcodes: ['LS1 4AP', 'LS6 2QT'] });
    const withPostcode = (postcode: string) => ({ user: { ...base.user!, postcode } });
    expect(rules(withPostcode('ls6 2qt'), { person: jones })).toEqual(['same-surname-address']);
    expect(rules(withPostcode('LS6 2QX'), { person: jones })).toEqual(['same-surname']);
    expect(rules({}, { person: jones })).toEqual(['same-surname']);
    // the same postcode without the surname is a neighbourhood, not an alert
    expect(rules(withPostcode('LS14AP'), { person: person() })).toEqual([]);
    // their own record, at their own address: one alert, which says so
    const own = evaluateRules({ ...base, ...withPostcode('LS1 4AP') }, S, {
      person: person({ names: [{ family: 'Jones', given: ['Sam'] }] }),
    });
    expect(own.map((a) => [a.rule, a.summary])).toEqual([
      [
        'own-record',
        'dr.x (R8000, RX1) accessed a record with the same name as theirs and their home postcode',
      ],
    ]);
    // each rule can be switched off on its own
    expect(rules(withPostcode('LS6 2QT'), { person: jones }, { ...S, sameAddress: false })).toEqual([
      'same-surname',
    ]);
    expect(rules(withPostcode('LS6 2QT'), { person: jones }, { ...S, sameName: false })).toEqual([
      'same-surname-address',
    ]);
  });

  it('flags people needing extra protection by security label or by list', () => {
    expect(rules({}, { person: person({ securityCodes: ['R'] }) })).toEqual(['protected-person']);
    expect(rules({}, { person: person({ securityCodes: ['N'] }) })).toEqual([]);
    const listed = { ...S, protectedPersons: { ...S.protectedPersons, nhsNumbers: ['9990000018'] } };
    expect(rules({}, { person: person() }, listed)).toEqual(['protected-person']);
  });

  it('raises many-records once the user reaches the threshold with a new person', () => {
    const n = S.manyRecords.persons;
    expect(rules({}, { recent: { persons: n - 2, includesThis: false } })).toEqual([]);
    expect(rules({}, { recent: { persons: n - 1, includesThis: false } })).toEqual(['many-records']);
    expect(rules({}, { recent: { persons: n + 5, includesThis: true } })).toEqual([]);
  });

  it('ignores events that are errors, or about no person, and respects rules switched off', () => {
    expect(rules({ outcome: 'error', at: '2026-03-04T22:15:00.000Z' })).toEqual([]);
    expect(rules({ personId: undefined, at: '2026-03-04T22:15:00.000Z' })).toEqual([]);
    expect(rules({ action: 'break-glass' }, {}, { ...S, breakGlass: false })).toEqual([]);
  });
});

describe('localTime (remembered by UTC minute)', () => {
  it('moves on at the next minute, across midnight and the clocks going forward', () => {
    expect(localTime(new Date('2026-03-28T23:59:59.999Z'), 'Europe/London')).toEqual({
      date: '2026-03-28',
      weekday: 6,
      hhmm: '23:59',
    });
    expect(localTime(new Date('2026-03-29T00:00:00.000Z'), 'Europe/London')).toEqual({
      date: '2026-03-29',
      weekday: 7,
      hhmm: '00:00',
    });
    // British Summer Time starts at 01:00 UTC: 00:59 GMT, then 02:00 BST
    expect(localTime(new Date('2026-03-29T00:59:30.000Z'), 'Europe/London').hhmm).toBe('00:59');
    expect(localTime(new Date('2026-03-29T01:00:00.000Z'), 'Europe/London').hhmm).toBe('02:00');
  });

  it('answers for the zone asked, within the same minute', () => {
    const at = new Date('2026-07-01T22:30:15.000Z');
    expect(localTime(at, 'Europe/London')).toEqual({ date: '2026-07-01', weekday: 3, hhmm: '23:30' });
    expect(localTime(at, 'Asia/Kolkata')).toEqual({ date: '2026-07-02', weekday: 4, hhmm: '04:00' });
    expect(localTime(new Date('2026-07-01T22:30:59.000Z'), 'Europe/London').hhmm).toBe('23:30');
    expect(localTime(at, 'UTC').hhmm).toBe('22:30');
  });

  it('gives an answer that cannot be changed by one caller for the next', () => {
    const t = localTime(new Date('2026-07-01T10:00:00.000Z'), 'Europe/London');
    expect(() => Object.assign(t, { hhmm: '03:00' })).toThrow();
    expect(localTime(new Date('2026-07-01T10:00:20.000Z'), 'Europe/London').hhmm).toBe('11:00');
  });
});
