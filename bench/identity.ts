/**
 * `npm run bench:identity`: the master patient index's quality and speed on a labelled
 * identity-noise region (src/generate/identity-noise.ts). Loads every record but a sample through
 * the real linker in batches (GP first, then the other sources), then links the sample one record
 * at a time, timing each decision. Prints precision, recall and F1 of the automatic links (pairs
 * of records put on one person), the share of records sent to review, and decision times.
 *
 *   npm run bench:identity -- --persons 100000 [--db postgres|pglite] [--sample 2000] [--batch 500]
 */
import { parseArgs } from 'node:util';
import { openDatabase, type Database } from '../src/db/index.ts';
import { labelledRecords, type LabelledRecord } from '../src/generate/index.ts';
import { createPersonLinker, loadMatchRules, type PersonLinker } from '../src/identity/index.ts';
import { createBenchDatabase } from './databases.ts';
import { since, summarise } from './stats.ts';

const { values } = parseArgs({
  options: {
    persons: { type: 'string', default: '100000' },
    db: { type: 'string', default: 'postgres' },
    sample: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '500' },
    rules: { type: 'string' },
    'pg-url': {
      type: 'string',
      default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
  },
});
const persons = Number(values.persons);
const sampleSize = Number(values.sample);
const batchSize = Number(values.batch);

/** Links records of one source in one transaction; returns the time of the decision (before commit). */
async function link(db: Database, linker: PersonLinker, records: LabelledRecord[]): Promise<number> {
  return db.transaction(async (tx) => {
    const t = performance.now();
    await linker.linkSourcePatients(
      tx,
      records[0]!.sourceId,
      records.map((r) => ({ localId: r.localId, patient: r.patient, contentHash: r.localId })),
    );
    return since(t);
  });
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

async function main(): Promise<void> {
  const rules = loadMatchRules(values.rules);
  const linker = createPersonLinker(rules);
  const bench =
    values.db === 'postgres'
      ? await createBenchDatabase(values['pg-url'], `identity_${Date.now()}`)
      : undefined;
  const db = await openDatabase({ databaseUrl: bench?.url });
  try {
    const all = [...labelledRecords(persons, 7)];
    const truth = new Map(all.map((r) => [`${r.sourceId}|${r.localId}`, r.truth]));
    const every = Math.max(1, Math.floor(all.filter((r) => r.sourceId !== 'gp').length / sampleSize));
    let k = 0;
    const sample: LabelledRecord[] = [];
    const bulk = all.filter((r) => r.sourceId === 'gp' || k++ % every !== 0 || sample.push(r) > sampleSize);
    const started = performance.now();
    for (let i = 0; i < bulk.length;) {
      const source = bulk[i]!.sourceId;
      let j = i;
      while (j < bulk.length && j - i < batchSize && bulk[j]!.sourceId === source) j++;
      await link(db, linker, bulk.slice(i, j));
      i = j;
    }
    const bulkMs = since(started);
    const times: number[] = [];
    const withCommit: number[] = [];
    for (const r of sample) {
      const t = performance.now();
      times.push(await link(db, linker, [r]));
      withCommit.push(since(t));
    }
    const q = await quality(db, truth);
    const d = summarise(times);
    const c = summarise(withCommit);
    const pct = (x: number) => `${(100 * x).toFixed(3)} %`;
    console.log(
      `identity bench: ${persons.toLocaleString('en-GB')} persons, ${q.records.toLocaleString('en-GB')} source records, ${db.kind}, rules v${rules.version}`,
    );
    console.log(
      `  bulk linking:       ${bulk.length.toLocaleString('en-GB')} records in ${(bulkMs / 1000).toFixed(1)} s (${Math.round(bulk.length / (bulkMs / 1000)).toLocaleString('en-GB')} records/s, batches of ${batchSize})`,
    );
    console.log(`  precision:          ${pct(q.precision)} (${q.falsePairs} false pairs)`);
    console.log(`  recall:             ${pct(q.recall)} (${q.missedPairs} missed pairs)`);
    console.log(`  F1:                 ${pct(q.f1)}`);
    console.log(`  sent to review:     ${pct(q.reviewShare)} of records`);
    console.log(
      `  decision per record (${d.samples} singly): p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms, max ${d.max.toFixed(1)} ms`,
    );
    console.log(`  with transaction and commit:  p50 ${c.p50.toFixed(2)} ms, p99 ${c.p99.toFixed(2)} ms`);
  } finally {
    await db.close();
    await bench?.drop();
  }
}

await main();
