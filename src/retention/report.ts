/**
 * What a retention run reports: counts by rule (persons and items), what was kept back under the
 * longer rules, and totals. Counts only, never who: the same report goes to the audit trail.
 */
import { RULES, type PersonDecision, type RetentionPeriods, type RuleName } from './decide.ts';

export interface RuleCount<R extends string = RuleName> {
  rule: R;
  persons: number;
  items: number;
}

export interface RetentionReport {
  asOf: string;
  dryRun: boolean;
  periods: RetentionPeriods;
  /** items removed (or, in a dry run, that would be) by the rule that kept them longest */
  rules: RuleCount[];
  /** items that stay after the rest of their person's record expired */
  kept: RuleCount<'maternity' | 'mental-health'>[];
  persons: {
    examined: number;
    /** whole records: the person, their source links and every item */
    removed: number;
    /** some items removed, maternity or mental-health items kept */
    partlyRemoved: number;
    /** skipped because something new arrived for them during the run */
    changedDuringRun: number;
    /** without a birth date on any source record (children's rule assumed at its longest) */
    noBirthDate: number;
    /** without any dated item (latest received date used as the last contact) */
    undated: number;
  };
  removed: { items: number; versions: number; relationshipFacts: number; personLinks: number };
  batches: number;
  durationMs: number;
}

export function emptyReport(asOf: Date, dryRun: boolean, periods: RetentionPeriods): RetentionReport {
  return {
    asOf: asOf.toISOString(),
    dryRun,
    periods,
    rules: RULES.map((rule) => ({ rule, persons: 0, items: 0 })),
    kept: (['maternity', 'mental-health'] as const).map((rule) => ({ rule, persons: 0, items: 0 })),
    persons: { examined: 0, removed: 0, partlyRemoved: 0, changedDuringRun: 0, noBirthDate: 0, undated: 0 },
    removed: { items: 0, versions: 0, relationshipFacts: 0, personLinks: 0 },
    batches: 0,
    durationMs: 0,
  };
}

/** Adds one person whose plan was carried out (or counted). */
export function addDecision(report: RetentionReport, d: PersonDecision): void {
  for (const r of report.rules) {
    const n = d.removed[r.rule] ?? 0;
    if (n > 0) {
      r.persons++;
      r.items += n;
    }
  }
  for (const k of report.kept) {
    const n = d.kept[k.rule] ?? 0;
    if (n > 0) {
      k.persons++;
      k.items += n;
    }
  }
  if (d.whole) report.persons.removed++;
  else report.persons.partlyRemoved++;
}

const n = (v: number) => v.toLocaleString('en-GB');

function describeRule(rule: RuleName, p: RetentionPeriods): string {
  switch (rule) {
    case 'adult':
      return `${p.adultYears} years after the last contact`;
    case 'child':
      return `until the ${p.childUntilBirthday}th birthday (${p.childAged17UntilBirthday}th if 17 at the last contact)`;
    case 'maternity':
      return `${p.maternityYears} years after the last maternity contact`;
    case 'mental-health':
      return `${p.mentalHealthYears} years after the last mental-health contact`;
  }
}

/** The report for people: a heading, a table by rule, and the totals. */
export function formatRetentionReport(r: RetentionReport): string {
  const would = r.dryRun ? 'would be removed' : 'removed';
  const lines = [
    `Retention ${r.dryRun ? 'dry run (nothing was changed)' : 'run'} as of ${r.asOf.slice(0, 10)}: ${n(r.persons.examined)} persons examined.`,
    '',
  ];
  const table: string[][] = [['Rule', 'Period', 'Persons', 'Items']];
  for (const c of r.rules) table.push([c.rule, describeRule(c.rule, r.periods), n(c.persons), n(c.items)]);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table)
    lines.push(
      row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  '),
    );
  lines.push('');
  lines.push(
    `Whole records ${would}: ${n(r.persons.removed)}; records ${would} in part: ${n(r.persons.partlyRemoved)}.`,
    `Items ${would}: ${n(r.removed.items)}, with ${n(r.removed.versions)} earlier versions, ${n(r.removed.relationshipFacts)} relationship facts and ${n(r.removed.personLinks)} source record links.`,
  );
  const kept = r.kept.filter((k) => k.items > 0);
  if (kept.length > 0)
    lines.push(
      `Kept for their longer period: ${kept.map((k) => `${n(k.items)} ${k.rule} items of ${n(k.persons)} persons`).join('; ')}.`,
    );
  if (r.persons.changedDuringRun > 0)
    lines.push(`Skipped: ${n(r.persons.changedDuringRun)} persons whose records changed during the run.`);
  if (r.persons.noBirthDate > 0 || r.persons.undated > 0)
    lines.push(
      `Of the persons examined, ${n(r.persons.noBirthDate)} have no birth date (kept as possible children) and ${n(r.persons.undated)} no dated item (received dates used).`,
    );
  lines.push(
    `${n(r.batches)} ${r.batches === 1 ? 'batch' : 'batches'} in ${(r.durationMs / 1000).toFixed(1)} s.`,
  );
  return lines.join('\n');
}
