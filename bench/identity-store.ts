/**
 * `npm run bench:identity -- --setup copy`: a store already linked, loaded with COPY, for sizes
 * where linking every record one batch at a time takes longer than the run may (1,000,000 persons
 * is 2.1 million source records). Every record but the sample goes in as a store from before the
 * master patient index would hold it: on its true person (one per GP record's NHS number), with its
 * demographics and no match keys. The bench then times indexing that store (backfillMatchKeys, the
 * same code `sharedcare migrate` and `identity reindex` run), and links the sample against it.
 * Quality is then over the pairs that involve a sample record only: the rest were placed by truth.
 */
import pg from 'pg';
import type { LabelledRecord } from '../src/generate/index.ts';
import { featuresOf } from '../src/identity/index.ts';
import { copyFrom } from './pg-copy.ts';
import { note } from './stats.ts';

/** A fixed person id per true person. */
export const personIdOf = (truth: number): string =>
  `00000000-0000-4000-8000-${truth.toString(16).padStart(12, '0')}`;

const text = (v: string | null): string =>
  v === null
    ? '\\N'
    : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

async function* lines(rows: Iterable<(string | null)[]>): AsyncGenerator<Buffer> {
  let chunk: string[] = [];
  for (const r of rows) {
    chunk.push(`${r.map(text).join('\t')}\n`);
    if (chunk.length === 5000) {
      yield Buffer.from(chunk.join(''));
      chunk = [];
    }
  }
  if (chunk.length) yield Buffer.from(chunk.join(''));
}

/**
 * COPYs persons (from the GP records, which come first) and every non-sample record's link.
 * `records` is called twice: the region is generated again rather than held in memory.
 */
export async function copyLinkedStore(
  url: string,
  records: () => Iterable<LabelledRecord>,
  inSample: (r: LabelledRecord) => boolean,
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    function* persons(): Generator<(string | null)[]> {
      for (const r of records()) {
        if (r.sourceId !== 'gp') return;
        const nhs = featuresOf(r.patient).nhs;
        yield [personIdOf(r.truth), nhs, nhs === null ? 'false' : 'true'];
      }
    }
    const n = await copyFrom(client, 'COPY person (id, nhs_number, verified) FROM STDIN', lines(persons()));
    note(`copied ${n.toLocaleString('en-GB')} persons`);
    const at = new Date().toISOString();
    function* links(): Generator<(string | null)[]> {
      for (const r of records()) {
        if (inSample(r)) continue;
        const f = featuresOf(r.patient);
        yield [
          r.sourceId,
          r.localId,
          personIdOf(r.truth),
          f.nhsTrusted ? f.nhs : null,
          f.nhsTrusted ? 'nhs-number' : 'matched',
          r.localId,
          JSON.stringify(r.patient),
          at,
        ];
      }
    }
    const copied = await copyFrom(
      client,
      'COPY person_link (source_id, local_id, person_id, nhs_number, link_reason, content_hash, demographics, updated_at) FROM STDIN',
      lines(links()),
    );
    note(`copied ${copied.toLocaleString('en-GB')} source records`);
    return copied;
  } finally {
    await client.end();
  }
}

const pairs = (n: number): number => (n * (n - 1)) / 2;

/**
 * Precision and recall over the pairs that involve a sample record: pairs put on one person
 * against pairs of one true person (`truthCount`: records per true person, in the whole store).
 */
export async function sampleQuality(
  url: string,
  sample: LabelledRecord[],
  truthOf: (sourceId: string, localId: string) => number,
  truthCount: (truth: number) => number,
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const isSample = new Set(sample.map((r) => `${r.sourceId}|${r.localId}`));
    const { rows } = await client.query<{ s: string; l: string; p: string }>(
      `SELECT source_id AS s, local_id AS l, person_id AS p FROM person_link
        WHERE person_id IN (SELECT person_id FROM person_link
                             JOIN unnest($1::text[], $2::text[]) AS x(s, l) ON source_id = x.s AND local_id = x.l)`,
      [sample.map((r) => r.sourceId), sample.map((r) => r.localId)],
    );
    const count = (m: Map<string, [number, number]>, key: string, s: boolean) => {
      const [n, k] = m.get(key) ?? [0, 0];
      m.set(key, [n + 1, k + (s ? 1 : 0)]);
    };
    const byPerson = new Map<string, [number, number]>();
    const cells = new Map<string, [number, number]>();
    for (const r of rows) {
      const s = isSample.has(`${r.s}|${r.l}`);
      count(byPerson, r.p, s);
      count(cells, `${r.p}|${truthOf(r.s, r.l)}`, s);
    }
    const sampleByTruth = new Map<number, number>();
    for (const r of sample) sampleByTruth.set(r.truth, (sampleByTruth.get(r.truth) ?? 0) + 1);
    // pairs with at least one sample record: all pairs less those of non-sample records only
    const involving = ([n, k]: [number, number]) => pairs(n) - pairs(n - k);
    const sum = (xs: Iterable<[number, number]>) => [...xs].reduce((a, x) => a + involving(x), 0);
    const predicted = sum(byPerson.values());
    const tp = sum(cells.values());
    const truePairs = [...sampleByTruth].reduce((a, [t, k]) => a + involving([truthCount(t), k]), 0);
    const review = await client.query<{ n: number }>(
      `SELECT count(DISTINCT (source_id, local_id))::int AS n FROM identity_review WHERE status = 'open'`,
    );
    const precision = tp / predicted;
    const recall = tp / truePairs;
    return {
      records: sample.length,
      precision,
      recall,
      f1: (2 * precision * recall) / (precision + recall),
      falsePairs: predicted - tp,
      missedPairs: truePairs - tp,
      reviewShare: review.rows[0]!.n / sample.length,
    };
  } finally {
    await client.end();
  }
}
