/**
 * `sharedcare identity review | split | train`: the identity review queue, splitting a wrongly
 * linked person, and learning the match weights from the region's own records.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { ADMIN_ROLE, reassignRelationshipFacts } from '../access/index.ts';
import { identityAdmin, type IdentityActor } from '../admin/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { moveReviews } from '../policy/index.ts';
import { SharedcareError } from '../errors/index.ts';
import {
  backfillMatchKeys,
  DEFAULT_RULES_FILE,
  loadMatchRules,
  saveTermFrequencies,
  trainingRecords,
  trainRules,
  type ReviewPair,
} from '../identity/index.ts';
import { itemMover } from '../ingest/index.ts';
import type { Backend } from './backend.ts';

export interface IdentityBackend {
  review(actor: IdentityActor, limit: number): Promise<ReviewPair[]>;
  decide(actor: IdentityActor, id: string, decision: 'link' | 'apart'): Promise<unknown>;
  split(
    actor: IdentityActor,
    personId: string,
    records: { sourceId: string; localId: string }[],
  ): Promise<unknown>;
  train(opts: { out?: string; apply: boolean }): Promise<string>;
  /** computes missing or outdated match keys of source records; how many it computed */
  reindex(): Promise<number>;
}

export function directIdentity(db: Database, config: Config): IdentityBackend {
  const admin = identityAdmin(
    db,
    itemMover({ relationships: { reassign: reassignRelationshipFacts }, moveReviews }),
  );
  return {
    reindex: () => backfillMatchKeys(db).then((r) => r.records),
    review: (actor, limit) => admin.listReview(actor, limit),
    decide: (actor, id, decision) =>
      admin.decideReview(actor, id, decision).then((o) => ({ id, decision, moved: o.moves.length })),
    split: (actor, personId, records) => admin.split(actor, personId, records),
    async train({ out, apply }) {
      const from = config.identityRules ?? DEFAULT_RULES_FILE;
      const report = trainRules(loadMatchRules(from), await trainingRecords(db));
      const file = out ?? path.join(path.dirname(from), `identity-rules.v${report.rules.version}.json`);
      writeFileSync(file, `${JSON.stringify(report.rules, null, 2)}\n`);
      if (apply) await db.transaction((tx) => saveTermFrequencies(tx, report.termFrequencies));
      const changes = Object.entries(report.changes)
        .sort()
        .map(([k, n]) => `  ${k.padEnd(16)} ${n}`)
        .join('\n');
      return [
        `Trained version ${report.rules.version} on ${report.randomPairs} random and ${report.blockedPairs} blocked pairs (estimated share of blocked pairs that match: ${(100 * report.matchShare).toFixed(1)} %).`,
        `Wrote ${file}. Decisions on the blocked pairs, now -> with the new figures:`,
        changes || '  (no pairs)',
        apply
          ? `Name counts for term-frequency weights saved (${report.termFrequencies.length} names).`
          : 'Name counts not saved (add --apply).',
        `Put the rules in force with SHAREDCARE_IDENTITY_RULES=${file} and restart.`,
      ].join('\n');
    },
  };
}

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export function serverIdentity(call: Call): IdentityBackend {
  return {
    // the server computed them when it started (src/app.ts), and keeps them as records arrive
    reindex: () => Promise.resolve(0),
    review: (_actor, limit) => call('GET', `/admin/identity/review?limit=${limit}`),
    decide: (_actor, id, decision) =>
      call('POST', `/admin/identity/review/${encodeURIComponent(id)}`, { decision }),
    split: (_actor, personId, records) => call('POST', '/admin/identity/split', { personId, records }),
    train: () =>
      Promise.reject(
        new SharedcareError(
          'conflict',
          'training reads every record: stop the server that holds the data folder, or use PostgreSQL',
        ),
      ),
  };
}

interface Helpers {
  withBackend<T>(fn: (b: Backend) => Promise<T>, opts?: { config?: string }): Promise<T>;
  print(v: unknown): void;
  configOpt(): Option;
}

const actor = (o: { by: string; org: string }): IdentityActor => ({
  userId: o.by,
  org: o.org,
  role: ADMIN_ROLE,
});

function sideBySide(p: ReviewPair): string {
  const row = (label: string, a: string | null, b: string | null) =>
    `  ${label.padEnd(11)} ${String(a ?? '').padEnd(36)} ${b ?? ''}`;
  return [
    `review ${p.id}  (match weight ${p.weight.toFixed(1)})`,
    row(
      'source',
      `${p.record.sourceId} ${p.record.localId}`,
      `${p.candidate.sourceId} ${p.candidate.localId}`,
    ),
    row('NHS number', p.record.nhsNumber, p.candidate.nhsNumber),
    row('name', p.record.name, p.candidate.name),
    row('born', p.record.birthDate, p.candidate.birthDate),
    row('sex', p.record.gender, p.candidate.gender),
    row('address', p.record.address, p.candidate.address),
    `  levels      ${p.levels.map((l) => `${l.field}=${l.level ?? 'missing'}`).join(' ')}`,
  ].join('\n');
}

export function registerIdentityCommands(program: Command, { withBackend, print, configOpt }: Helpers): void {
  const identity = program
    .command('identity')
    .description('the master patient index: review queue, splits, training, reindexing');
  identity
    .command('review')
    .description('list the pairs waiting for review side by side, or decide one (--link ID or --apart ID)')
    .requiredOption('--by <user>', 'who is reviewing (recorded in the audit trail)')
    .requiredOption('--org <ods>', "the reviewer's organisation")
    .option('--link <id>', 'the two records are the same person: link them')
    .option('--apart <id>', 'the two records are different people: keep them apart')
    .option('--limit <n>', 'how many pairs to list', '20')
    .addOption(configOpt())
    .action((o) => {
      if (o.link && o.apart) throw new SharedcareError('invalid-request', 'give one of --link and --apart');
      return withBackend(async (b) => {
        if (o.link || o.apart)
          return print(await b.identity.decide(actor(o), o.link ?? o.apart, o.link ? 'link' : 'apart'));
        const pairs = await b.identity.review(actor(o), Number(o.limit));
        print(pairs.length ? pairs.map(sideBySide).join('\n\n') : 'No pairs are waiting for review.');
      }, o);
    });
  identity
    .command('split')
    .description('move source records (and their items) off a wrongly linked person, onto a new one')
    .requiredOption('--person <id>', "the person's Sharedcare id")
    .requiredOption('--record <source:localId...>', 'a source record to move (repeatable)')
    .requiredOption('--by <user>', 'who decided (recorded in the audit trail)')
    .requiredOption('--org <ods>', "the decider's organisation")
    .addOption(configOpt())
    .action((o) => {
      const records = (o.record as string[]).map((r) => {
        const i = r.indexOf(':');
        if (i < 1 || i === r.length - 1)
          throw new SharedcareError('invalid-request', `--record ${r}: expected source:localId`);
        return { sourceId: r.slice(0, i), localId: r.slice(i + 1) };
      });
      return withBackend(async (b) => print(await b.identity.split(actor(o), o.person, records)), o);
    });
  identity
    .command('reindex')
    .description(
      "compute the match keys of source records that have none (linked before the master patient index) or an older version's",
    )
    .addOption(configOpt())
    .action((o) =>
      withBackend(async (b) => {
        const n = await b.identity.reindex();
        print(
          n > 0
            ? `Match keys computed for ${n} source records.`
            : 'Every source record has current match keys.',
        );
      }, o),
    );
  identity
    .command('train')
    .description(
      "estimate m and u from the region's records (EM), write the next rules version, show what would change",
    )
    .option('--out <file>', 'where to write the new rules (default: beside the rules in force)')
    .option('--apply', 'also save the name counts used for term-frequency weights')
    .addOption(configOpt())
    .action((o) =>
      withBackend(async (b) => print(await b.identity.train({ out: o.out, apply: !!o.apply })), o),
    );
}
