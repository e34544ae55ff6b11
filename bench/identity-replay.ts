/**
 * `node --import tsx bench/identity-replay.ts --db NAME`: times the decisions of a database that
 * `npm run bench:identity -- --keep` left, again, without building the region again (at
 * 1,000,000 persons that takes ten minutes). Takes the records linked last (the bench's sample,
 * linked one at a time after the rest), and for each, in a transaction that is rolled back:
 * removes its link and review pairs, then times the linker deciding it as a new arrival, as the
 * bench does. The database is left as it was, so runs before and after a change compare.
 *
 *   node --import tsx bench/identity-replay.ts --db sharedcare_bench_identity_… [--records 2000] [--passes 2]
 *     [--profile FILE.cpuprofile] [--statements]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Patient } from '@medplum/fhirtypes';
import { stopPretenuring } from '../src/cli/memory.ts';
import { openDatabase, type Queryable } from '../src/db/index.ts';
import { createPersonLinker, featuresOf, loadMatchRules } from '../src/identity/index.ts';
import { profiled, summariseProfile } from './cpu-profile.ts';
import {
  decideAgain,
  onCpuNs,
  tailParts,
  type DecisionTiming,
  type LinkedRecord,
} from './identity-timing.ts';
import { summarise } from './stats.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    records: { type: 'string', default: '2000' },
    passes: { type: 'string', default: '2' },
    /** a V8 CPU profile of the last pass, summarised (run node with --enable-source-maps) */
    profile: { type: 'string' },
    /** the backend's CPU time by statement (its first words), over the last pass */
    statements: { type: 'boolean', default: false },
    /** only the records with (numbered) or without (unnumbered) a trusted NHS number */
    only: { type: 'string' },
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/' },
  },
});
if (!values.db?.startsWith('sharedcare_bench_identity_'))
  throw new Error('--db names a database that bench:identity --keep left (sharedcare_bench_identity_…)');

const backendMs = new Map<string, { n: number; ms: number }>();
/** candidate records the decision read returned, per decision (with --statements) */
let candidatesRead = 0;

/** `tx`, summing the CPU time its backend spends on each statement into backendMs. */
async function metered(tx: Queryable): Promise<Queryable> {
  const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]!.pid;
  return {
    async query<T>(sql: string, params?: unknown[]) {
      const b0 = onCpuNs(pid) ?? 0;
      const r = await tx.query<T>(sql, params);
      const row = r.rows[0] as { candidates?: unknown } | undefined;
      if (typeof row?.candidates === 'string')
        candidatesRead += (JSON.parse(row.candidates) as unknown[]).length;
      const key = sql.replace(/\s+/g, ' ').trim().slice(0, 60);
      const s = backendMs.get(key) ?? { n: 0, ms: 0 };
      backendMs.set(key, { n: s.n + 1, ms: s.ms + ((onCpuNs(pid) ?? 0) - b0) / 1e6 });
      return r;
    },
  };
}

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  // as in `sharedcare serve` (`node --allocation-site-pretenuring` keeps V8's default)
  stopPretenuring();
  const loadBefore = load();
  const linker = createPersonLinker(loadMatchRules());
  const db = await openDatabase({ databaseUrl: `${values['pg-url']}${values.db}` });
  try {
    const { rows } = await db.query<LinkedRecord>(
      'SELECT source_id, local_id, demographics FROM person_link ORDER BY updated_at DESC LIMIT $1',
      [Number(values.records)],
    );
    if (values.only && values.only !== 'numbered' && values.only !== 'unnumbered')
      throw new Error('--only is numbered or unnumbered');
    const wanted = rows.filter(
      (r) =>
        !values.only ||
        featuresOf(JSON.parse(r.demographics) as Patient).nhsTrusted === (values.only === 'numbered'),
    );
    let timings: (DecisionTiming & { numbered: boolean; candidates: number })[] = [];
    const passOnce = async () => {
      timings = [];
      backendMs.clear();
      for (const r of wanted) {
        const numbered = featuresOf(JSON.parse(r.demographics) as Patient).nhsTrusted;
        candidatesRead = 0;
        const timing = await decideAgain(db, linker, r, values.statements ? metered : undefined);
        timings.push({ ...timing, numbered, candidates: candidatesRead });
      }
    };
    for (let pass = 1; pass < Number(values.passes); pass++) await passOnce();
    if (values.profile) console.log(summariseProfile((await profiled(values.profile, passOnce)).profile));
    else await passOnce();
    const wall = summarise(timings.map((t) => t.wallMs));
    const cpu = summarise(timings.map((t) => t.cpuMs ?? Number.NaN));
    const backend = summarise(timings.map((t) => t.backendMs ?? Number.NaN));
    const f = (x: number) => x.toFixed(2);
    console.log(`identity replay: ${values.db}, ${wanted.length} records, last of ${values.passes} passes`);
    console.log(`  decision wall time:  p50 ${f(wall.p50)} ms, p99 ${f(wall.p99)} ms, max ${f(wall.max)} ms`);
    console.log(
      `  CPU (node + backend): p50 ${f(cpu.p50)} ms, p99 ${f(cpu.p99)} ms (backend alone p50 ${f(backend.p50)}, p99 ${f(backend.p99)})`,
    );
    const parts = tailParts(timings);
    if (parts) console.log(`  ${parts}`);
    for (const numbered of [true, false]) {
      const some = timings.filter((t) => t.numbered === numbered);
      const c = summarise(some.map((t) => t.cpuMs ?? Number.NaN));
      const b = summarise(some.map((t) => t.backendMs ?? Number.NaN));
      const read = values.statements
        ? `; candidates read: mean ${(some.reduce((n, t) => n + t.candidates, 0) / some.length).toFixed(1)}, max ${Math.max(...some.map((t) => t.candidates))}`
        : '';
      console.log(
        `    ${some.length} records ${numbered ? 'with' : 'without'} a trusted NHS number: CPU p50 ${f(c.p50)} ms, p99 ${f(c.p99)} ms (backend p50 ${f(b.p50)}, p99 ${f(b.p99)})${read}`,
      );
    }
    for (const [sql, m] of [...backendMs].sort((a, b) => b[1].ms - a[1].ms))
      console.log(`  backend ${(m.ms / m.n).toFixed(3).padStart(7)} ms x ${m.n}  ${sql}`);
    console.log(`  load average before / after: ${loadBefore} / ${load()}`);
  } finally {
    await db.close();
  }
}

await main();
