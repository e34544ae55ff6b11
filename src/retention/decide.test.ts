import { describe, expect, it } from 'vitest';
import { addYears, decidePerson, latestBirth, type PersonFacts, type RetentionPeriods } from './decide.ts';
import { parseAsOf } from './as-of.ts';

const P: RetentionPeriods = {
  adultYears: 8,
  childUntilBirthday: 25,
  childAged17UntilBirthday: 26,
  maternityYears: 25,
  mentalHealthYears: 20,
};
const d = (s: string) => Date.parse(`${s}T00:00:00Z`);
const ITEMS = { total: 10, maternity: 0, mentalHealth: 0, both: 0 };
const facts = (over: Partial<PersonFacts>): PersonFacts => ({
  lastContact: d('2010-06-01'),
  lastReceived: d('2020-01-01'),
  maternityLast: null,
  mentalHealthLast: null,
  birthDates: ['1970-01-01'],
  items: ITEMS,
  ...over,
});
const at = (f: Partial<PersonFacts>, asOf: string) => decidePerson(facts(f), P, d(asOf));

describe('retention rules', () => {
  it.each([
    // adult: 8 years after the last contact, to the day
    ['adult, 7 years on', {}, '2017-06-01', false],
    ['adult, the day before 8 years', {}, '2018-05-31', false],
    ['adult, 8 years on', {}, '2018-06-01', true],
    ['adult, 9 years on', {}, '2019-06-01', true],
    // a child of 10 at the last contact: until the 25th birthday, though the adult rule has passed
    ['child of 10, 9 years on', { birthDates: ['2000-03-15'] }, '2019-06-01', false],
    ['child of 10, the day before the 25th birthday', { birthDates: ['2000-03-15'] }, '2025-03-14', false],
    ['child of 10, the 25th birthday', { birthDates: ['2000-03-15'] }, '2025-03-15', true],
    // 17 at the last contact: until the 26th birthday
    ['17 at the last contact, after the 25th birthday', { birthDates: ['1993-01-10'] }, '2018-06-01', false],
    ['17 at the last contact, the 26th birthday', { birthDates: ['1993-01-10'] }, '2019-01-10', true],
    // a child of 2: the 25th birthday is later than 8 years
    ['child of 2, 20 years on', { birthDates: ['2008-01-01'] }, '2030-06-01', false],
    ['child of 2, 25th birthday', { birthDates: ['2008-01-01'] }, '2033-01-01', true],
    // 18 at the last contact: an adult
    ['18 at the last contact, 8 years on', { birthDates: ['1992-01-01'] }, '2018-06-01', true],
    // no birth date: kept as a possible child, as if born at the last contact (25 years)
    ['no birth date, 9 years on', { birthDates: [] }, '2019-06-01', false],
    ['no birth date, 25 years on', { birthDates: [] }, '2035-06-01', true],
    // sources disagree on the birth date: the youngest reading keeps longest
    ['two birth dates', { birthDates: ['1960-01-01', '2000-03-15'] }, '2019-06-01', false],
  ] as [string, Partial<PersonFacts>, string, boolean][])('%s: expired=%s', (_name, f, asOf, expired) => {
    const r = at(f, asOf);
    expect(r.expired).toBe(expired);
    expect(r.whole).toBe(expired);
  });

  it('keeps maternity items 25 years after the last maternity contact, and removes the rest', () => {
    const f = {
      maternityLast: d('2009-01-01'),
      items: { total: 10, maternity: 3, mentalHealth: 0, both: 0 },
    };
    const r = at(f, '2019-06-01');
    expect(r).toMatchObject({ expired: true, whole: false, keepMaternity: true, keepMentalHealth: false });
    expect(r.removed).toEqual({ adult: 7 });
    expect(r.kept).toEqual({ maternity: 3 });
    const later = at(f, '2034-01-01');
    expect(later).toMatchObject({ whole: true, removed: { adult: 7, maternity: 3 }, kept: {} });
  });

  it('keeps an item that is maternity and mental health for the longer of the two', () => {
    const f = {
      maternityLast: d('2000-01-01'),
      mentalHealthLast: d('2010-01-01'),
      items: { total: 6, maternity: 2, mentalHealth: 3, both: 1 },
    };
    // 2026: maternity (2025) has expired, mental health (2030) has not
    const r = at(f, '2026-01-01');
    expect(r).toMatchObject({ keepMaternity: false, keepMentalHealth: true });
    expect(r.removed).toEqual({ adult: 2, maternity: 1 });
    expect(r.kept).toEqual({ 'mental-health': 3 });
    expect(at(f, '2030-01-01').removed).toEqual({ adult: 2, maternity: 1, 'mental-health': 3 });
  });

  it('a maternity period shorter than the record does not remove maternity items early', () => {
    const f = { maternityLast: d('1990-01-01'), items: { total: 4, maternity: 2, mentalHealth: 0, both: 0 } };
    // maternity expired in 2015 but the record (2018) keeps them: they go with it, under "adult"
    expect(at(f, '2016-01-01').expired).toBe(false);
    expect(at(f, '2018-06-01').removed).toEqual({ adult: 4 });
  });

  it('uses the latest received date only when no item is dated', () => {
    const r = at({ lastContact: null, lastReceived: d('2015-01-01') }, '2022-01-01');
    expect(r).toMatchObject({ undated: true, expired: false });
    expect(at({ lastContact: null, lastReceived: d('2015-01-01') }, '2023-01-01').expired).toBe(true);
  });

  it('counts a birthday on 29 February as 1 March in other years', () => {
    expect(new Date(addYears(d('2008-02-29'), 25)).toISOString().slice(0, 10)).toBe('2033-03-01');
  });

  it.each([
    ['1970', '1970-12-31'],
    ['1970-02', '1970-02-28'],
    ['1970-05-01', '1970-05-01'],
  ])('reads birth date %s as late as it could be: %s', (v, iso) => {
    expect(latestBirth(v)).toBe(d(iso));
  });
  it.each(['1970-13', '1970-02-30', 'yesterday', ''])('ignores a birth date that is not one: %s', (v) =>
    expect(latestBirth(v)).toBeUndefined(),
  );
});

describe('--as-of', () => {
  const now = new Date('2026-11-26T10:00:00Z');
  it('defaults to now and reads dates as the start of the day in UTC', () => {
    expect(parseAsOf(undefined, false, now)).toEqual(now);
    expect(parseAsOf('2020-02-29', false, now).toISOString()).toBe('2020-02-29T00:00:00.000Z');
    expect(parseAsOf('2020-02-29T09:30:00+01:00', false, now).toISOString()).toBe('2020-02-29T08:30:00.000Z');
  });
  it.each(['2021-02-29', '31/01/2030', '2030-1-5', 'tomorrow', '2030-01-31T09:00', '0999-01-01'])(
    'refuses %s, saying what to give',
    (v) => expect(() => parseAsOf(v, true, now)).toThrow(/--as-of must be/),
  );
  it('refuses a future date for a real run, and allows it for a dry run', () => {
    expect(() => parseAsOf('2030-01-01', false, now)).toThrow(/add --dry-run/i);
    expect(parseAsOf('2030-01-01', true, now).toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });
});
