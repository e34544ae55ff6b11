/**
 * The retention decision for one person, as a pure function of what the store knows about them
 * (dates and counts, no content) and the configured periods. Dates are UTC milliseconds.
 *
 * - The person's record (every item) is kept until the later of: the adult rule (last contact +
 *   adultYears) and, for someone under 18 at the last contact, the children's rule (their
 *   childUntilBirthday-th birthday, or childAged17UntilBirthday-th if they were 17).
 * - Maternity items are kept, in addition, until the last maternity contact + maternityYears;
 *   mental-health items until the last mental-health contact + mentalHealthYears. An item that is
 *   both is kept for the longer.
 * - An item goes when every rule that applies to it has expired; the person goes when all items
 *   have. So once the ordinary record has expired, only the maternity and mental-health items that
 *   are still within their periods stay.
 *
 * "Last contact" is the latest effective date of the person's current (not entered-in-error)
 * items. Received dates do not count: reloading a source would otherwise restart every clock. Only
 * for a person none of whose items carries a date does the latest received date stand in (else
 * such records would never age out). A person with no birth date on any source record is treated
 * as a possible child at the longest the children's rule could keep them (as if born at the last
 * contact); with several birth dates the latest (youngest) is used. Both keep rather than destroy.
 */
import type { RetentionConfig } from '../config/index.ts';

export type RuleName = 'adult' | 'child' | 'maternity' | 'mental-health';
export const RULES: readonly RuleName[] = ['adult', 'child', 'maternity', 'mental-health'];

export type RetentionPeriods = Pick<
  RetentionConfig,
  'adultYears' | 'childUntilBirthday' | 'childAged17UntilBirthday' | 'maternityYears' | 'mentalHealthYears'
>;

export interface PersonFacts {
  /** latest effective date of current items */
  lastContact: number | null;
  /** latest received date of any item or source record (the fallback clock) */
  lastReceived: number | null;
  maternityLast: number | null;
  mentalHealthLast: number | null;
  /** birthDate values from the person's source records, as sent ("1970", "1970-05", "1970-05-01") */
  birthDates: string[];
  /** all stored items (entered-in-error ones too), and how many are maternity, mental health, both */
  items: { total: number; maternity: number; mentalHealth: number; both: number };
}

export interface PersonDecision {
  /** the ordinary record has expired, so something goes */
  expired: boolean;
  /** nothing stays: the person, their source links and every item go */
  whole: boolean;
  keepMaternity: boolean;
  keepMentalHealth: boolean;
  /** items removed, by the rule that kept them longest */
  removed: Partial<Record<RuleName, number>>;
  /** items kept after the rest of the record expired, by the rule that keeps them */
  kept: Partial<Record<'maternity' | 'mental-health', number>>;
  noBirthDate: boolean;
  undated: boolean;
}

/** n calendar years after t (29 February + 1 year = 1 March, as for birthdays in England). */
export function addYears(t: number, n: number): number {
  const d = new Date(t);
  return Date.UTC(
    d.getUTCFullYear() + n,
    d.getUTCMonth(),
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

/** The latest day a FHIR date could mean ("1970" → 31/12/1970), or undefined if it is not one. */
export function latestBirth(value: string): number | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(value.trim());
  if (!m) return undefined;
  const y = Number(m[1]);
  const month = m[2] ? Number(m[2]) - 1 : 11;
  if (month > 11) return undefined;
  if (!m[3]) return Date.UTC(y, month + 1, 0);
  const t = Date.UTC(y, month, Number(m[3]));
  return new Date(t).getUTCDate() === Number(m[3]) ? t : undefined;
}

function ageAt(birth: number, t: number): number {
  let age = new Date(t).getUTCFullYear() - new Date(birth).getUTCFullYear();
  while (age > 0 && addYears(birth, age) > t) age--;
  return age;
}

const later = <R extends string>(a: [R, number], b: [R, number]): [R, number] => (b[1] > a[1] ? b : a);

export function decidePerson(facts: PersonFacts, p: RetentionPeriods, asOf: number): PersonDecision {
  const undated = facts.lastContact === null;
  const contact = facts.lastContact ?? facts.lastReceived ?? 0;
  const births = facts.birthDates.map(latestBirth).filter((b): b is number => b !== undefined);
  const noBirthDate = births.length === 0;

  let record: [RuleName, number] = ['adult', addYears(contact, p.adultYears)];
  if (noBirthDate) {
    const longest = Math.max(p.childUntilBirthday, p.childAged17UntilBirthday - 17);
    record = later(record, ['child', addYears(contact, longest)]);
  } else {
    const birth = Math.max(...births);
    const age = ageAt(birth, contact);
    if (age < 18) {
      const until =
        age === 17 ? Math.max(p.childAged17UntilBirthday, p.childUntilBirthday) : p.childUntilBirthday;
      record = later(record, ['child', addYears(birth, until)]);
    }
  }
  const maternity = later(record, ['maternity', addYears(facts.maternityLast ?? contact, p.maternityYears)]);
  const mental = later(record, [
    'mental-health',
    addYears(facts.mentalHealthLast ?? contact, p.mentalHealthYears),
  ]);
  const both = later(maternity, mental);

  const { total, maternity: nMat, mentalHealth: nMh, both: nBoth } = facts.items;
  const groups: { n: number; rule: [RuleName, number] }[] = [
    { n: total - nMat - nMh + nBoth, rule: record },
    { n: nMat - nBoth, rule: maternity },
    { n: nMh - nBoth, rule: mental },
    { n: nBoth, rule: both },
  ];
  const expired = asOf >= record[1];
  const removed: PersonDecision['removed'] = {};
  const kept: PersonDecision['kept'] = {};
  if (expired) {
    for (const g of groups) {
      if (g.n === 0) continue;
      const [rule, until] = g.rule;
      if (asOf >= until) removed[rule] = (removed[rule] ?? 0) + g.n;
      else if (rule === 'maternity' || rule === 'mental-health') kept[rule] = (kept[rule] ?? 0) + g.n;
    }
  }
  const keepMaternity = expired && nMat > 0 && asOf < maternity[1];
  const keepMentalHealth = expired && nMh > 0 && asOf < mental[1];
  return {
    expired,
    whole: expired && !keepMaternity && !keepMentalHealth,
    keepMaternity,
    keepMentalHealth,
    removed,
    kept,
    noBirthDate,
    undated,
  };
}
