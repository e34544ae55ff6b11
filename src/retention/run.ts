/**
 * A retention run. It reads persons a few thousand at a time (dates and counts only) and decides
 * for each one (decide.ts). It then removes what is past its period, or in a dry run only counts
 * it, in batches of at most 250 persons and 50,000 items, one transaction each, so a large store
 * never holds one huge transaction. Each batch of a real run writes its audit event in the same
 * transaction as its removals, so nothing is removed unaudited. A last event gives the run's
 * totals, or its failure. Events carry counts only, never who. A dry run changes nothing, audit
 * included.
 */
import { randomUUID } from 'node:crypto';
import { recordAuditEvent } from '../audit/index.ts';
import type { RetentionConfig } from '../config/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { listOrganisations } from '../region/index.ts';
import {
  removeExpired,
  retentionBatch,
  retentionFacts,
  type ItemMatcher,
  type RetentionPlanRow,
} from '../store/index.ts';
import { parseAsOf } from './as-of.ts';
import { decidePerson, type PersonDecision } from './decide.ts';
import { createRecogniser } from './recognise.ts';
import { addDecision, emptyReport, type RetentionReport } from './report.ts';

export interface RetentionActor {
  userId: string;
  org: string;
  role: string;
}

export interface RetentionOptions {
  dryRun: boolean;
  /** YYYY-MM-DD or an ISO instant; default now. A real run refuses a future date. */
  asOf?: string | undefined;
  /** persons per removal batch (transaction) */
  batchSize?: number;
}

const FIRST_ID = '00000000-0000-0000-0000-000000000000';
/** persons examined per read: large, so the store reads each person's rows once, by index */
const READ_PERSONS = 2000;
export const DEFAULT_BATCH_PERSONS = 250;
const BATCH_ITEMS = 50_000;

interface Planned {
  plan: RetentionPlanRow;
  decision: PersonDecision;
  items: number;
}

function audit(tx: Queryable, actor: RetentionActor, outcome: 'success' | 'error', detail: unknown) {
  return recordAuditEvent(tx, {
    action: 'retention.run',
    outcome,
    user: { id: actor.userId, org: actor.org, role: actor.role },
    detail: JSON.stringify(detail),
  });
}

function totals(r: RetentionReport) {
  const { asOf, periods, rules, kept, persons, removed, batches } = r;
  return { asOf, periods, rules, kept, persons, removed, batches };
}

/** Splits plans into batches of at most `persons` persons and about BATCH_ITEMS items. */
function batches(planned: Planned[], persons: number): Planned[][] {
  const out: Planned[][] = [];
  let current: Planned[] = [];
  let items = 0;
  for (const p of planned) {
    if (current.length > 0 && (current.length >= persons || items + p.items > BATCH_ITEMS)) {
      out.push(current);
      current = [];
      items = 0;
    }
    current.push(p);
    items += p.items;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export async function runRetention(
  db: Database,
  config: RetentionConfig,
  actor: RetentionActor,
  opts: RetentionOptions,
): Promise<RetentionReport> {
  const started = performance.now();
  const asOf = parseAsOf(opts.asOf, opts.dryRun);
  const recogniser = createRecogniser(await listOrganisations(db), config);
  const { adultYears, childUntilBirthday, childAged17UntilBirthday, maternityYears, mentalHealthYears } =
    config;
  const periods = {
    adultYears,
    childUntilBirthday,
    childAged17UntilBirthday,
    maternityYears,
    mentalHealthYears,
  };
  const report = emptyReport(asOf, opts.dryRun, periods);
  const run = randomUUID();

  /** Decides for the next persons; returns those with something to remove. */
  const examine = async (after: string) => {
    const { personIds, codes } = await retentionBatch(db, after, READ_PERSONS);
    const matchers = recogniser.matchers(codes);
    const facts = await retentionFacts(db, personIds, matchers.maternity, matchers.mentalHealth);
    const planned: Planned[] = [];
    for (const f of facts) {
      const items = { total: f.total, maternity: f.maternity, mentalHealth: f.mentalHealth, both: f.both };
      const d = decidePerson({ ...f, items }, periods, asOf.getTime());
      report.persons.examined++;
      if (d.noBirthDate) report.persons.noBirthDate++;
      if (d.undated) report.persons.undated++;
      const removing = Object.values(d.removed).reduce((a, b) => a + b, 0);
      // an expired record whose remaining items all stay (maternity, mental health) has nothing to do
      if (!d.expired || (!d.whole && removing === 0)) continue;
      const { keepMaternity, keepMentalHealth, whole } = d;
      const plan = { personId: f.personId, keepMaternity, keepMentalHealth, whole, stamp: f.stamp };
      planned.push({ plan, decision: d, items: removing });
    }
    return { planned, matchers, next: personIds.at(-1) };
  };

  /** One batch in one transaction; its counts join the report only once it has committed. */
  const remove = async (
    tx: Queryable,
    batch: Planned[],
    m: { maternity: ItemMatcher; mentalHealth: ItemMatcher },
  ) => {
    const plans = batch.map((p) => p.plan);
    const removal = await removeExpired(tx, plans, m.maternity, m.mentalHealth, opts.dryRun);
    const { done, changed, persons, ...counts } = removal;
    if (!opts.dryRun && done.length > 0) {
      await audit(tx, actor, 'success', {
        run,
        batch: report.batches + 1,
        persons: { actedOn: done.length, removed: persons, skipped: changed.length },
        ...counts,
      });
    }
    return () => {
      const decisions = new Map(batch.map((p) => [p.plan.personId, p.decision]));
      for (const id of done) addDecision(report, decisions.get(id)!);
      report.persons.changedDuringRun += changed.length;
      report.removed.items += counts.items;
      report.removed.versions += counts.versions;
      report.removed.relationshipFacts += counts.relationshipFacts;
      report.removed.personLinks += counts.personLinks;
      report.batches++;
    };
  };

  try {
    for (let after: string | undefined = FIRST_ID; after !== undefined;) {
      const { planned, matchers, next } = await examine(after);
      for (const batch of batches(planned, opts.batchSize ?? DEFAULT_BATCH_PERSONS)) {
        const merge = await db.transaction((tx) => remove(tx, batch, matchers));
        merge();
      }
      after = next;
    }
  } catch (err) {
    if (!opts.dryRun) {
      const failure = { run, summary: totals(report), error: 'stopped; the batches before were committed' };
      await db.transaction((tx) => audit(tx, actor, 'error', failure)).catch(() => undefined);
    }
    throw err;
  }
  report.durationMs = Math.round(performance.now() - started);
  if (!opts.dryRun)
    await db.transaction((tx) => audit(tx, actor, 'success', { run, summary: totals(report) }));
  return report;
}
