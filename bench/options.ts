/**
 * Benchmark options, from argv (`--persons 10000`) or the environment (`BENCH_PERSONS=10000`);
 * argv wins. `--quick` picks small sizes for a smoke test of about a minute.
 */
import { parseArgs } from 'node:util';
import type { GrowBody } from './bulk-load.ts';

export interface BenchOptions {
  /** 'generator': our synthetic region; 'synthea': Synthea bundles cloned (PostgreSQL only) */
  data: 'generator' | 'synthea';
  /** persons in the region ingested through the real path into PostgreSQL */
  persons: number;
  /** region sizes (persons) to grow the PostgreSQL region to in SQL, ascending; [] skips growing */
  grow: number[];
  /** persons in the region ingested into PGlite (a prefix of the same synthetic region) */
  pglitePersons: number;
  /** bodies of the rows added in SQL (see bench/bulk-load.ts) */
  growBody: GrowBody;
  /** NDJSON resources per ingest call, as `sharedcare load` */
  chunk: number;
  /** HTTP load: seconds per run and concurrent connections of the loaded runs */
  duration: number;
  connections: number;
  /** iterations of the bare SQL fetch loop per person */
  sqlIterations: number;
  pgUrl: string;
  postgres: boolean;
  pglite: boolean;
  /** keep the bench database, PGlite folder and generated files afterwards */
  keep: boolean;
  quick: boolean;
  seed: number | undefined;
}

const QUICK: Partial<BenchOptions> = {
  persons: 60,
  grow: [300],
  pglitePersons: 60,
  duration: 1,
  sqlIterations: 100,
};

const DEFAULTS: BenchOptions = {
  data: 'generator',
  persons: 2_000,
  grow: [10_000, 100_000],
  pglitePersons: 500,
  growBody: 'auto',
  chunk: 2000,
  duration: 10,
  connections: 10,
  sqlIterations: 1000,
  pgUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  postgres: true,
  pglite: true,
  keep: false,
  quick: false,
  seed: undefined,
};

const NUMERIC = [
  'persons',
  'pglite-persons',
  'chunk',
  'duration',
  'connections',
  'sql-iterations',
  'seed',
] as const;

const camel = (s: string): string => s.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const envName = (s: string): string => `BENCH_${s.replace(/-/g, '_').toUpperCase()}`;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(NUMERIC.map((n) => [n, { type: 'string' as const }])),
      data: { type: 'string' },
      grow: { type: 'string' },
      'grow-body': { type: 'string' },
      'pg-url': { type: 'string' },
      'no-postgres': { type: 'boolean' },
      'no-pglite': { type: 'boolean' },
      keep: { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `npm run bench -- [--data generator|synthea] [--quick] [--persons N] [--grow N,N…] [--pglite-persons N] [--grow-body auto|full|short]
  [--chunk N] [--duration S] [--connections N] [--sql-iterations N] [--seed N]
  [--pg-url URL] [--no-postgres] [--no-pglite] [--keep]
--data synthea: the Synthea bundles of ../shared/fixtures/synthea-r4 cloned into --persons persons
  (default 600) plus one heavy person, on PostgreSQL only (growing and PGlite do not apply).
Every option can also be set as BENCH_<NAME> (e.g. BENCH_PERSONS=2000, BENCH_PG_URL=…).\n`,
    );
    process.exit(0);
  }
  const flag = (name: string): boolean =>
    values[name as keyof typeof values] === true || env[envName(name)] === '1';
  const quick = flag('quick');
  const opts: BenchOptions = { ...DEFAULTS, ...(quick ? QUICK : {}), quick };
  const data = values.data ?? env.BENCH_DATA ?? 'generator';
  if (data !== 'generator' && data !== 'synthea') throw new Error('--data must be generator or synthea');
  opts.data = data;
  if (data === 'synthea') {
    opts.persons = quick ? 20 : 600;
    opts.grow = [];
    opts.pglite = false;
  }
  const record = opts as unknown as Record<string, unknown>;
  for (const name of NUMERIC) {
    const raw = (values[name as keyof typeof values] as string | undefined) ?? env[envName(name)];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number (got "${raw}")`);
    record[camel(name)] = n;
  }
  const grow = values.grow ?? env.BENCH_GROW;
  if (grow !== undefined) {
    opts.grow = grow
      .split(',')
      .filter((g) => g.trim() !== '')
      .map((g) => {
        const n = Number(g);
        if (!Number.isInteger(n) || n < 0) throw new Error(`--grow takes whole numbers (got "${g}")`);
        return n;
      });
  }
  const body = values['grow-body'] ?? env.BENCH_GROW_BODY;
  if (body !== undefined) {
    if (body !== 'full' && body !== 'short' && body !== 'auto')
      throw new Error('--grow-body must be full, short or auto');
    opts.growBody = body;
  }
  opts.pgUrl = values['pg-url'] ?? env.BENCH_PG_URL ?? opts.pgUrl;
  opts.postgres = !flag('no-postgres');
  opts.pglite = opts.data === 'generator' && !flag('no-pglite');
  opts.keep = flag('keep');
  if (opts.persons < 1) throw new Error('--persons must be at least 1');
  if (opts.pglitePersons > opts.persons) opts.pglitePersons = opts.persons;
  opts.grow =
    opts.data === 'synthea'
      ? []
      : [...new Set(opts.grow)].filter((g) => g > opts.persons).sort((a, b) => a - b);
  if (opts.connections < 1 || opts.duration < 1) throw new Error('--connections and --duration must be ≥ 1');
  return opts;
}
