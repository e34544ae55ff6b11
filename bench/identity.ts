/**
 * `npm run bench:identity`: the master patient index's quality and speed on a labelled
 * identity-noise region (src/generate/identity-noise.ts). Loads every record but a sample through
 * the real linker in batches (GP first, then the other sources), then links the sample one record
 * at a time, timing each decision. Prints precision, recall and F1 of the automatic links (pairs
 * of records put on one person), the share of records sent to review, and decision times.
 *
 * "Decision time" is one call of the linker for one record, inside its transaction: reading the
 * record's prior link, the advisory locks, the one read of candidates, NHS numbers, remembered
 * decisions and name counts, scoring, and the writes (person, link, review pairs). It excludes
 * BEGIN and COMMIT (shown separately as "with transaction and commit") and parsing the message.
 * Beside the wall time it prints the CPU time the decision took in this process plus its
 * PostgreSQL backend, which a machine shared with other work does not inflate.
 *
 *   npm run bench:identity -- --persons 100000 [--db postgres|pglite] [--sample 2000] [--batch 500]
 *     [--profile] (time in flight per statement)  [--keep] (keep the database)
 *     [--warm 4000] (records decided again and rolled back before the timed ones; 0: a cold path)
 *     [--setup copy] (COPY a linked store without match keys, time indexing it, link only the sample:
 *     for 1,000,000 persons; see bench/identity-store.ts)
 *     [--own-postgres 'shared_buffers=4GB,…'] (a throwaway PostgreSQL server of the bench's own with
 *     these settings, e.g. sized as a region's database would be; removed at the end)
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { stopPretenuring } from '../src/cli/memory.ts';
import { openDatabase, type Database } from '../src/db/index.ts';
import { labelledRecords, type LabelledRecord } from '../src/generate/index.ts';
import {
  backfillMatchKeys,
  createPersonLinker,
  loadMatchRules,
  type PersonLinker,
} from '../src/identity/index.ts';
import { copyLinkedStore, sampleQuality } from './identity-store.ts';
import { NHS_NUMBER_CAPACITY } from '../src/generate/nhs-numbers.ts';
import { createBenchDatabase } from './databases.ts';
import { collections } from './gc-count.ts';
import { machineCpuMark, machineCpuSince } from './machine-cpu.ts';
import { ownPostgresServer } from './own-postgres.ts';
import {
  decideAgain,
  statementMs,
  tailParts,
  timeDecision,
  timedQueries,
  type DecisionTiming,
  type LinkedRecord,
} from './identity-timing.ts';
import { note, since, summarise } from './stats.ts';

const { values } = parseArgs({
  options: {
    persons: { type: 'string', default: '100000' },
    db: { type: 'string', default: 'postgres' },
    sample: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '500' },
    rules: { type: 'string' },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    setup: { type: 'string', default: 'link' },
    /** decisions made and rolled back before the timed ones, so that V8 has compiled the path */
    warm: { type: 'string', default: '4000' },
    'own-postgres': { type: 'string' },
    'pg-url': {
      type: 'string',
      default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
  },
});
const persons = Number(values.persons);
const sampleSize = Number(values.sample);
const batchSize = Number(values.batch);

/** Links records of one source in one transaction; the time of the linking (before commit). */
async function link(
  db: Database,
  linker: PersonLinker,
  records: LabelledRecord[],
  profile = false,
): Promise<DecisionTiming> {
  return db.transaction((tx0) => {
    const tx = profile ? timedQueries(tx0) : tx0;
    return timeDecision(tx0, db.kind, () =>
      linker.linkSourcePatients(
        tx,
        records[0]!.sourceId,
        records.map((r) => ({ localId: r.localId, patient: r.patient, contentHash: r.localId })),
      ),
    );
  });
}

/**
 * A running server has decided records one at a time before: V8 has compiled that path, and until
 * it has, its compiler threads take one of the two cores (2026-12-07: the slowest 1 % of a cold
 * pass spent 2-3 ms of their 4-5 ms waiting for a core, 0.05 ms with V8 single-threaded). So
 * before the timed decisions, `n` records already linked (not the sample, not yet linked) are
 * decided again and rolled back, as bench/identity-replay.ts does. `--warm 0` times a cold path.
 */
async function warmUp(db: Database, linker: PersonLinker, n: number): Promise<number> {
  if (n <= 0) return 0;
  const { rows } = await db.query<LinkedRecord>(
    `SELECT source_id, local_id, demographics FROM person_link WHERE source_id <> 'gp' ORDER BY local_id LIMIT $1`,
    [n],
  );
  for (const r of rows) await decideAgain(db, linker, r);
  return rows.length;
}

/** Pairs of records on one person (predicted) against pairs of one true person. */
async function quality(db: Database, truth: Map<string, number>) {
  const { rows } = await db.query<{ s: string; l: string; p: string }>(
    'SELECT source_id AS s, local_id AS l, person_id AS p FROM person_link',
  );
  const cells = new Map<string, number>();
  const byPerson = new Map<string, number>();
  const byTruth = new Map<number, number>();
  for (const r of rows) {
    const t = truth.get(`${r.s}|${r.l}`)!;
    cells.set(`${r.p}|${t}`, (cells.get(`${r.p}|${t}`) ?? 0) + 1);
    byPerson.set(r.p, (byPerson.get(r.p) ?? 0) + 1);
    byTruth.set(t, (byTruth.get(t) ?? 0) + 1);
  }
  const pairs = (m: Map<unknown, number>) => [...m.values()].reduce((s, n) => s + (n * (n - 1)) / 2, 0);
  const tp = pairs(cells);
  const precision = tp / pairs(byPerson);
  const recall = tp / pairs(byTruth);
  const review = await db.query<{ n: number }>(
    `SELECT count(DISTINCT (source_id, local_id))::int AS n FROM identity_review WHERE status = 'open'`,
  );
  return {
    records: rows.length,
    precision,
    recall,
    f1: (2 * precision * recall) / (precision + recall),
    falsePairs: pairs(byPerson) - tp,
    missedPairs: pairs(byTruth) - tp,
    reviewShare: review.rows[0]!.n / rows.length,
  };
}

/**
 * The region's records. The 999 test range holds 900,000 NHS numbers (NHS_NUMBER_CAPACITY), so
 * the generator repeats them after that; persons beyond it carry no NHS number in any source
 * (as if never registered), and are linked on demographics alone.
 */
function* regionRecords(): Generator<LabelledRecord> {
  for (const r of labelledRecords(persons, 7))
    yield r.truth < NHS_NUMBER_CAPACITY ? r : { ...r, patient: { ...r.patient, identifier: [] } };
}

type Setup =
  | { kind: 'link'; records: number; truth: Map<string, number> }
  | { kind: 'copy'; records: number; indexMs: number; perTruth: Int32Array };

/** The generator's local ids end in the true person's index, in base 36. */
const truthOfLocalId = (_source: string, localId: string): number =>
  parseInt(localId.slice(localId.lastIndexOf('-') + 1), 36);

/** Every record but the sample through the real linker, in batches of one source. */
async function linkSetup(
  db: Database,
  linker: PersonLinker,
  takeSample: (r: LabelledRecord) => boolean,
): Promise<Setup> {
  // streamed: at 1,000,000 persons the records do not all fit in memory at once
  const truth = new Map<string, number>();
  let batch: LabelledRecord[] = [];
  let records = 0;
  const flush = async () => {
    if (batch.length > 0) await link(db, linker, batch);
    records += batch.length;
    if (records % 100_000 < batch.length) note(`${records.toLocaleString('en-GB')} records linked`);
    batch = [];
  };
  for (const r of regionRecords()) {
    truth.set(`${r.sourceId}|${r.localId}`, r.truth);
    if (takeSample(r)) continue;
    if (batch.length === batchSize || (batch[0] && batch[0].sourceId !== r.sourceId)) await flush();
    batch.push(r);
  }
  await flush();
  return { kind: 'link', records, truth };
}

/** The store COPYed in without match keys, then indexed (see bench/identity-store.ts). */
async function copySetup(
  db: Database,
  url: string,
  takeSample: (r: LabelledRecord) => boolean,
): Promise<Setup> {
  const perTruth = new Int32Array(persons);
  const records = await copyLinkedStore(
    url,
    () => regionRecords(),
    (r) => {
      perTruth[r.truth]!++;
      return takeSample(r);
    },
  );
  await db.query('ANALYZE');
  const t = performance.now();
  const indexed = await backfillMatchKeys(db);
  const indexMs = since(t);
  note(`indexed ${indexed.records.toLocaleString('en-GB')} records`);
  return { kind: 'copy', records, indexMs, perTruth };
}

async function main(): Promise<void> {
  // as in `sharedcare serve` (`node --allocation-site-pretenuring` keeps V8's default)
  stopPretenuring();
  const loadBefore = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const rules = loadMatchRules(values.rules);
  const linker = createPersonLinker(rules);
  const own =
    values.db === 'postgres' && values['own-postgres'] !== undefined
      ? await ownPostgresServer(values['own-postgres'])
      : undefined;
  if (own && values.keep) note('--keep: the own server is removed at the end, and its database with it');
  const bench =
    values.db === 'postgres'
      ? await createBenchDatabase(own?.adminUrl ?? values['pg-url'], `identity_${Date.now()}`)
      : undefined;
  const db = await openDatabase({ databaseUrl: bench?.url });
  try {
    const every = Math.max(1, Math.floor((persons * 1.05) / sampleSize));
    const sample: LabelledRecord[] = [];
    let k = 0;
    const takeSample = (r: LabelledRecord): boolean => {
      if (r.sourceId === 'gp' || k++ % every !== 0 || sample.length >= sampleSize) return false;
      sample.push(r);
      return true;
    };
    const started = performance.now();
    const setup =
      values.setup === 'copy' && bench
        ? await copySetup(db, bench.url, takeSample)
        : await linkSetup(db, linker, takeSample);
    const setupMs = since(started);
    // A settled store, as a region's is between upgrades: indexing a COPYed store rewrote every
    // row, and until a vacuum every index still leads through the old versions (the prior link's
    // lookup by key read them), and a checkpoint would be flushing gigabytes during the timing.
    await db.query('VACUUM ANALYZE');
    if (db.kind === 'postgres') await db.query('CHECKPOINT');
    const warmed = await warmUp(db, linker, Number(values.warm));
    const timings: DecisionTiming[] = [];
    const withCommit: number[] = [];
    const gcs = collections();
    const others = machineCpuMark();
    const passStarted = performance.now();
    for (const r of sample) {
      const t = performance.now();
      timings.push(await link(db, linker, [r], values.profile));
      withCommit.push(since(t));
    }
    const passMs = since(passStarted);
    const elsewhere = machineCpuSince(others);
    const gc = gcs.stop();
    const q =
      setup.kind === 'copy'
        ? await sampleQuality(bench!.url, sample, truthOfLocalId, (t) => setup.perTruth[t]!)
        : await quality(db, setup.truth);
    const d = summarise(timings.map((t) => t.wallMs));
    const cpu = timings.every((t) => t.cpuMs !== undefined)
      ? summarise(timings.map((t) => t.cpuMs!))
      : undefined;
    const backend = cpu && summarise(timings.map((t) => t.backendMs ?? 0));
    const c = summarise(withCommit);
    const pct = (x: number) => `${(100 * x).toFixed(3)} %`;
    const buffers =
      db.kind === 'postgres'
        ? ` (shared_buffers ${(await db.query<{ s: string }>("SELECT current_setting('shared_buffers') AS s")).rows[0]!.s}${own ? ', own server' : ''})`
        : '';
    console.log(
      `identity bench: ${persons.toLocaleString('en-GB')} persons, ${(setup.records + sample.length).toLocaleString('en-GB')} source records, ${db.kind}${buffers}, rules v${rules.version}`,
    );
    const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-GB');
    if (setup.kind === 'link')
      console.log(
        `  bulk linking:       ${setup.records.toLocaleString('en-GB')} records in ${(setupMs / 1000).toFixed(1)} s (${rate(setup.records, setupMs)} records/s, batches of ${batchSize})`,
      );
    else
      console.log(
        `  store COPYed without match keys: ${setup.records.toLocaleString('en-GB')} records; indexing it (backfillMatchKeys): ${(setup.indexMs / 1000).toFixed(1)} s (${rate(setup.records, setup.indexMs)} records/s); quality below is over the ${sample.length} sample records' pairs only`,
      );
    console.log(`  precision:          ${pct(q.precision)} (${q.falsePairs} false pairs)`);
    console.log(`  recall:             ${pct(q.recall)} (${q.missedPairs} missed pairs)`);
    console.log(`  F1:                 ${pct(q.f1)}`);
    console.log(`  sent to review:     ${pct(q.reviewShare)} of records`);
    console.log(
      `  decision per record (${d.samples} singly, after ${warmed} decided and rolled back to warm the path): p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms, max ${d.max.toFixed(1)} ms`,
    );
    if (cpu)
      console.log(
        `  CPU time per decision (node + PostgreSQL backend): p50 ${cpu.p50.toFixed(2)} ms, p99 ${cpu.p99.toFixed(2)} ms (backend alone p50 ${backend!.p50.toFixed(2)}, p99 ${backend!.p99.toFixed(2)})`,
      );
    const parts = tailParts(timings);
    if (parts) console.log(`  ${parts}`);
    console.log(
      `  V8 collections during the timed decisions: ${gc.young} young (${gc.youngMs.toFixed(1)} ms), ${gc.full} full (${gc.fullMs.toFixed(1)} ms)`,
    );
    if (elsewhere.length)
      console.log(
        `  CPU used elsewhere on the machine during the ${(passMs / 1000).toFixed(1)} s of timed decisions (ms): ${elsewhere
          .slice(0, 10)
          .map(([who, ms]) => `${who} ${ms.toFixed(0)}`)
          .join(', ')}`,
      );
    console.log(`  with transaction and commit:  p50 ${c.p50.toFixed(2)} ms, p99 ${c.p99.toFixed(2)} ms`);
    console.log(
      `  load average before / after: ${loadBefore} / ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    if (values.profile)
      for (const [sql, s] of [...statementMs].sort((a, b) => b[1].ms - a[1].ms))
        console.log(`  ${(s.ms / s.n).toFixed(3).padStart(8)} ms x ${s.n}  ${sql}`);
  } finally {
    await db.close();
    if (values.keep && bench && !own) console.log(`  kept database ${bench.name}`);
    else await bench?.drop();
    await own?.stop();
  }
}

await main();
