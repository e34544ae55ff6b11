/**
 * `npm run bench:policy`: what the privacy policy adds to a record open ($everything) for a typical
 * person. Loads the first persons of a `sharedcare generate` region through the real ingest path
 * into a PostgreSQL database of its own and into a PGlite folder, then for three opens — the typical
 * person (#44 by default, ~300 items) as generated, the same person after objections and an
 * override are recorded, and a near-typical person with sensitive items — measures, interleaved in
 * random order in each round so that all three see the same machine:
 *
 *  A. the open as built: the gate's everything() in-process (access, policy, store read, Bundle,
 *     audit row, commit), without HTTP;
 *  B. the policy's own steps, in a transaction as the gate runs them: listObjections, listOverrides,
 *     decideRecord, withheldKinds; and the store read with the policy's filter against the same read
 *     without any policy clause (no sensitivity, organisation, section or item exclusions) — the
 *     extra WHERE clauses' cost is the difference, counted only when positive;
 *  C. the same open with the policy's steps removed: the gate's sequence rebuilt here from the same
 *     src functions (person, access, read without policy, Patient, Bundle, audit row, commit).
 *
 * The policy's share is B ÷ A (p50 of B over p50 of A, and the same at p99); the overhead of the
 * policy is A ÷ C − 1. Target (issue 4): at most 20 % of record-open time.
 *
 * Options: --no-postgres, --no-pglite; BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_POLICY_ITERATIONS (default 400 per open, after 40 warm-up rounds). Progress on stderr, the
 * table on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  activeBreakGlass,
  decideRecordAccess,
  relationshipsWith,
  type UserPrincipal,
} from '../src/access/index.ts';
import { recordAuditEvent } from '../src/audit/index.ts';
import { directBackend } from '../src/cli/backend.ts';
import { loadFiles } from '../src/cli/load.ts';
import { loadConfig } from '../src/config/index.ts';
import type { Database, Queryable } from '../src/db/index.ts';
import { openDatabase } from '../src/db/index.ts';
import { isClinicalType } from '../src/fhir/index.ts';
import { createGate } from '../src/gate/index.ts';
import { searchsetBundle } from '../src/gate/bundle.ts';
import { NOT_FULL_RECORD } from '../src/gate/notices.ts';
import { combinedPatient } from '../src/gate/patient.ts';
import {
  DEFAULT_SEED,
  generatePerson,
  getDefaultNow,
  regionSpec,
  writeRegion,
} from '../src/generate/index.ts';
import { findPersonByNhsNumber, getPerson } from '../src/identity/index.ts';
import {
  decideRecord,
  listObjections,
  listOverrides,
  recordObjection,
  recordOverride,
} from '../src/policy/index.ts';
import { applyRegion, createRegionDirectory } from '../src/region/index.ts';
import { withoutHiddenReferences } from '../src/gate/references.ts';
import { readItems } from '../src/store/index.ts';
import { createBenchDatabase, openBenchPglite, postgresReachable } from './databases.ts';
import { choosePersons } from './region.ts';
import { ms, note, summarise, type LatencySummary } from './stats.ts';

const ITERATIONS = Number(process.env.BENCH_POLICY_ITERATIONS ?? 400);
const WARMUP = 40;
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BASE = 'http://127.0.0.1/fhir';

/** The same read as the store's, with every policy clause taken out. */
const READ_WITHOUT_POLICY = `SELECT id, resource_type AS "resourceType", body, NULL::uuid[] AS refs, NULL::text[] AS withheld FROM clinical_item
  WHERE person_id = $1 AND NOT deleted ORDER BY effective DESC NULLS LAST, id`;

interface Open {
  label: string;
  index: number;
  personId: string;
  user: UserPrincipal;
  stored: number;
}

interface Measured {
  open: Open;
  returned: number;
  gate: LatencySummary;
  steps: LatencySummary;
  lists: LatencySummary;
  kinds: LatencySummary;
  clauses: LatencySummary;
  withoutPolicy: LatencySummary;
}

const now = getDefaultNow();
const spec = regionSpec();

/** The typical person and the first near-typical (200–400 items) person with sensitive items. */
function choose(): { typical: number; sensitive: number } {
  const typical = choosePersons(200, DEFAULT_SEED, now).find((p) => p.label === 'typical')!.index;
  for (let i = 0; i < 2000; i++) {
    const p = generatePerson(spec, i, DEFAULT_SEED, now);
    let n = 0;
    for (const list of p.bySource.values()) for (const r of list) if (isClinicalType(r.resourceType)) n++;
    const gp = [...p.bySource.keys()].some((s) => s.startsWith('gp-'));
    if (!p.heavy && p.sensitive > 0 && gp && n >= 200 && n <= 400) return { typical, sensitive: i };
  }
  throw new Error('no near-typical person with sensitive items among the first 2,000');
}

async function openFor(db: Database, index: number, label: string): Promise<Open> {
  const p = generatePerson(spec, index, DEFAULT_SEED, now);
  const gpSource = [...p.bySource.keys()].find((s) => s.startsWith('gp-'))!;
  const org = spec.sources.find((s) => s.id === gpSource)!.org;
  const person = (await findPersonByNhsNumber(db, p.nhsNumber))!;
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM clinical_item WHERE person_id = $1 AND NOT deleted',
    [person.id],
  );
  return {
    label,
    index,
    personId: person.id,
    stored: rows[0]!.n,
    user: { kind: 'user', userId: 'dr.bench', org, role: 'R8000', issuer: 'bench' },
  };
}

/** Objections a person might well have: one organisation, one section, three items; one overridden. */
async function recordObjections(db: Database, open: Open): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string; org: string }>(
      `SELECT id, source_org AS org FROM clinical_item WHERE person_id = $1 AND NOT deleted ORDER BY id`,
      [open.personId],
    );
    const other = rows.find((r) => r.org !== open.user.org)?.org;
    const base = { personId: open.personId, recordedBy: 'bench.dpo', recorderOrg: open.user.org };
    if (other) await recordObjection(tx, { ...base, scope: 'organisation', target: other });
    const category = await recordObjection(tx, { ...base, scope: 'category', target: 'care-plans' });
    for (const r of rows.slice(0, 3)) await recordObjection(tx, { ...base, scope: 'item', target: r.id });
    await recordOverride(tx, {
      objection: category,
      ground: 'safeguarding',
      reason: 'benchmark: an override for another organisation',
      endsOn: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
      forOrg: 'RX1',
      decidedBy: { userId: 'bench.dpo', role: 'sharedcare-dpo', org: open.user.org },
      allowedRoles: ['sharedcare-dpo'],
    });
  });
}

const timed = async <T>(into: number[], fn: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  const v = await fn();
  into.push(performance.now() - t);
  return v;
};

function shuffled<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

async function measure(db: Database, opens: Open[]): Promise<Measured[]> {
  const gate = createGate(db, BASE);
  const region = createRegionDirectory(db);
  const samples = opens.map(() => ({
    gate: [] as number[],
    steps: [] as number[],
    lists: [] as number[],
    kinds: [] as number[],
    clauses: [] as number[],
    withoutPolicy: [] as number[],
    returned: 0,
  }));

  /** B: the policy's steps, timed inside a transaction as the gate runs them. */
  const policySteps = (o: Open, s: (typeof samples)[number]) =>
    db.transaction(async (tx) => {
      const lists: number[] = [];
      const kinds: number[] = [];
      // as the gate runs them: overrides are looked up only when there is an objection
      const decision = await timed(lists, async () => {
        const objections = await listObjections(tx, o.personId);
        const overrides = objections.length > 0 ? await listOverrides(tx, o.personId, true) : [];
        return decideRecord(objections, overrides, { org: o.user.org });
      });
      // withheldKinds now comes with the read (one round trip): its cost is in the WHERE/read column
      kinds.push(0);
      const withFilter: number[] = [];
      const without: number[] = [];
      // alternate which read goes first, so that neither always finds the cache warmed by the other
      const first = Math.random() < 0.5;
      // the policy's read: its WHERE clauses, and removing references to what it withheld
      const policyRead = async () =>
        withoutHiddenReferences(
          tx,
          o.personId,
          decision.filter,
          await readItems(tx, o.personId, decision.filter),
        );
      if (first) await timed(withFilter, policyRead);
      await timed(without, () => tx.query(READ_WITHOUT_POLICY, [o.personId]));
      if (!first) await timed(withFilter, policyRead);
      const clauses = Math.max(0, withFilter[0]! - without[0]!);
      s.lists.push(lists[0]!);
      s.kinds.push(kinds[0]!);
      s.clauses.push(clauses);
      s.steps.push(lists[0]! + kinds[0]! + clauses);
    });

  /** C: the gate's open without the policy, from the same src functions. */
  const openWithoutPolicy = async (o: Open) => {
    const snapshot = await region.snapshot();
    await db.transaction(async (tx: Queryable) => {
      const person = (await getPerson(tx, o.personId))!;
      const at = new Date();
      const access = decideRecordAccess(o.user, {
        org: snapshot.organisations.get(o.user.org),
        personNhsNumber: person.nhsNumber,
        relationships: await relationshipsWith(tx, person.id, o.user.org),
        breakGlass: await activeBreakGlass(tx, person.id, o.user, at),
        now: at,
      });
      if (!access.allowed) throw new Error(`the bench user may not open #${o.index}: ${access.reason}`);
      const rows = (
        await tx.query<{ id: string; resourceType: string; body: string; refs: null; withheld: null }>(
          READ_WITHOUT_POLICY,
          [person.id],
        )
      ).rows;
      const body = searchsetBundle(
        BASE,
        { resource: await combinedPatient(tx, { person, region: snapshot }), mode: 'include' },
        rows,
        {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'information', code: 'informational', diagnostics: NOT_FULL_RECORD }],
        },
      );
      await recordAuditEvent(tx, {
        user: { id: o.user.userId, org: o.user.org, role: o.user.role },
        action: 'record.open',
        outcome: 'success',
        personId: person.id,
        returnedIds: [person.id, ...rows.map((r) => r.id)],
        basis: access.basis,
        reasons: [],
        query: 'bench: open without policy',
      });
      return body.length;
    });
  };

  for (let round = 0; round < WARMUP + ITERATIONS; round++) {
    const keep = round >= WARMUP;
    for (const k of shuffled(opens.map((_, i) => i))) {
      const o = opens[k]!;
      const s = samples[k]!;
      const tasks = shuffled([
        async () => {
          const t = performance.now();
          const body = await gate.everything({ user: o.user }, o.personId);
          if (keep) s.gate.push(performance.now() - t);
          s.returned = Number(/"total":(\d+)/.exec(body.toString('utf8', 0, 200))?.[1] ?? NaN);
        },
        async () => {
          const before = s.steps.length;
          await policySteps(o, s);
          if (!keep) for (const a of [s.steps, s.lists, s.kinds, s.clauses]) a.splice(before);
        },
        async () => {
          const t = performance.now();
          await openWithoutPolicy(o);
          if (keep) s.withoutPolicy.push(performance.now() - t);
        },
      ]);
      for (const task of tasks) await task();
    }
  }
  return opens.map((open, k) => {
    const s = samples[k]!;
    return {
      open,
      returned: s.returned,
      gate: summarise(s.gate),
      steps: summarise(s.steps),
      lists: summarise(s.lists),
      kinds: summarise(s.kinds),
      clauses: summarise(s.clauses),
      withoutPolicy: summarise(s.withoutPolicy),
    };
  });
}

async function load(db: Database, dir: string, concurrency: number): Promise<void> {
  await applyRegion(db, spec.organisations, spec.sources);
  const backend = await directBackend(loadConfig({}, { NODE_ENV: 'test' }), db);
  const t = performance.now();
  for (const s of spec.sources) await loadFiles(backend, s.id, [path.join(dir, s.id)], { concurrency });
  note(`  loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

async function run(
  db: Database,
  dir: string,
  concurrency: number,
  chosen: { typical: number; sensitive: number },
) {
  await load(db, dir, concurrency);
  const typical = await openFor(db, chosen.typical, 'typical');
  const objecting = { ...typical, label: 'typical, with objections' };
  const sensitive = await openFor(db, chosen.sensitive, 'with sensitive items');
  // the objections apply to the same person: measure the typical person first, then with them
  const before = await measure(db, [typical, sensitive]);
  await recordObjections(db, typical);
  const after = await measure(db, [objecting]);
  return [before[0]!, after[0]!, before[1]!];
}

const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;

function table(rows: { database: string; m: Measured }[]): string {
  return [
    '| Database | Person | Items stored / returned | Open as built p50 / p99 (ms) | Policy steps p50 / p99 (ms) | of which objections+overrides+decision / withheldKinds / WHERE clauses, p50 (ms) | Policy share p50 / p99 | Open without policy p50 / p99 (ms) | Overhead p50 / p99 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      ({ database, m }) =>
        `| ${database} | ${m.open.label} (#${m.open.index}) | ${m.open.stored} / ${m.returned} | ${ms(m.gate.p50)} / ${ms(m.gate.p99)} | ${ms(m.steps.p50)} / ${ms(m.steps.p99)} | ${ms(m.lists.p50)} / ${ms(m.kinds.p50)} / ${ms(m.clauses.p50)} | **${pct(m.steps.p50, m.gate.p50)} / ${pct(m.steps.p99, m.gate.p99)}** | ${ms(m.withoutPolicy.p50)} / ${ms(m.withoutPolicy.p99)} | ${pct(m.gate.p50 - m.withoutPolicy.p50, m.withoutPolicy.p50)} / ${pct(m.gate.p99 - m.withoutPolicy.p99, m.withoutPolicy.p99)} |`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const chosen = choose();
  const persons = Math.max(chosen.typical, chosen.sensitive) + 1;
  note(
    `typical person #${chosen.typical}, person with sensitive items #${chosen.sensitive}; generating ${persons} persons`,
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-policy-bench-'));
  const rows: { database: string; m: Measured }[] = [];
  try {
    await writeRegion({ persons, outDir: dir, now });
    if (!process.argv.includes('--no-postgres')) {
      const version = await postgresReachable(PG_URL);
      if (!version) note(`PostgreSQL not reachable at ${PG_URL}: skipped`);
      else {
        note(`PostgreSQL ${version}`);
        const bench = await createBenchDatabase(PG_URL, `policy_${Date.now()}`);
        try {
          const db = await openDatabase({ databaseUrl: bench.url });
          try {
            for (const m of await run(db, dir, 3, chosen)) rows.push({ database: 'PostgreSQL', m });
          } finally {
            await db.close();
          }
        } finally {
          await bench.drop();
        }
      }
    }
    if (!process.argv.includes('--no-pglite')) {
      note('PGlite');
      const lite = await openBenchPglite(path.join(dir, 'pglite'), false);
      try {
        for (const m of await run(lite.db, dir, 1, chosen)) rows.push({ database: 'PGlite', m });
      } finally {
        await lite.remove();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${table(rows)}\n\n${ITERATIONS} rounds per open after ${WARMUP} warm-up rounds.\n`);
}

await main();
