/**
 * `npm run bench:audit`: the audit trail's three targets, on PostgreSQL, in a database of its own.
 *
 * 1. What an audit write adds to a record open. A generated region is loaded; then, on one
 *    connection, many transactions read a typical person's record as the gate does (store read
 *    with the policy filter) and either commit (baseline) or write the audit event and commit,
 *    alternating. Added = p50(with) − p50(without): the event insert, the alert rules and the
 *    heavier commit (a read-only transaction flushes no WAL). Measured again over the large trail.
 *    The full gate open (`$everything`, in-process) is shown for scale.
 * 2. Access reports over a trail of N events (default 10 million, bench/audit-trail.ts): one
 *    person over a year and one user over a month, through the DPO service (transaction, report
 *    query, its own audit event, JSON), for the heaviest and for typical persons and users.
 * 3. Verification of the whole trail (`verifyAuditChain`, as `sharedcare audit verify` runs it).
 *
 * Options (environment): BENCH_AUDIT_EVENTS (10000000), BENCH_AUDIT_PERSONS (region size, 150),
 * BENCH_AUDIT_RUNS (600), BENCH_PG_URL, BENCH_KEEP=1 (keep the database), BENCH_AUDIT_REUSE=<name>
 * (measure again on a database kept by an earlier run, without loading or generating).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dpoService, recordAuditEvent, verifyAuditChain, type AuditEventInput } from '../src/audit/index.ts';
import { directBackend } from '../src/cli/backend.ts';
import { loadFiles } from '../src/cli/load.ts';
import { defaultAuditConfig, loadConfig } from '../src/config/index.ts';
import { openDatabase, type Queryable } from '../src/db/index.ts';
import { createGate } from '../src/gate/index.ts';
import { generatePerson, regionSpec, writeRegion } from '../src/generate/index.ts';
import { findPersonByNhsNumber } from '../src/identity/index.ts';
import { applyRegion } from '../src/region/index.ts';
import { readItems, type PolicyFilter } from '../src/store/index.ts';
import { generateTrail, personUuid, TRAIL_PERSONS, TRAIL_USERS, userId } from './audit-trail.ts';
import { createBenchDatabase } from './databases.ts';
import { ms, note, summarise } from './stats.ts';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 10_000_000);
const PERSONS = Number(process.env.BENCH_AUDIT_PERSONS ?? 150);
const RUNS = Number(process.env.BENCH_AUDIT_RUNS ?? 600);
const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FILTER: PolicyFilter = { kind: 'policy-filter', excludeOrgs: [], excludeSections: [], excludeIds: [] };

const REUSE = process.env.BENCH_AUDIT_REUSE;
const bench = REUSE
  ? {
      name: REUSE,
      url: Object.assign(new URL(adminUrl), { pathname: `/${REUSE}` }).toString(),
      drop: async () => {},
    }
  : await createBenchDatabase(adminUrl, `audit_${Date.now()}`);
const work = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-audit-bench-'));
const settings = defaultAuditConfig(work);
const rows: string[] = [];
const row = (what: string, n: number, s: { p50: number; p99: number }, extra = '') =>
  rows.push(`| ${what} | ${n} | ${ms(s.p50)} | ${ms(s.p99)} | ${extra} |`);
const started = performance.now();

try {
  const db = await openDatabase({ databaseUrl: bench.url });
  const spec = regionSpec();
  if (!REUSE) {
    await applyRegion(db, spec.organisations, spec.sources);
    await writeRegion({ persons: PERSONS, outDir: path.join(work, 'region') });
    const backend = await directBackend(loadConfig({}, { NODE_ENV: 'test' }), db);
    for (const s of spec.sources)
      await loadFiles(backend, s.id, [path.join(work, 'region', s.id)], { concurrency: 3 });
    note(`loaded ${PERSONS} persons`);
  }

  // typical (not heavy) people and a clinician at their GP practice
  const people: { id: string; org: string }[] = [];
  for (let i = 0; people.length < 40 && i < PERSONS; i++) {
    const g = generatePerson(spec, i);
    if (g.heavy) continue;
    const gp = [...g.bySource.keys()].find((id) => id.startsWith('gp-'));
    const person = await findPersonByNhsNumber(db, g.nhsNumber);
    if (gp && person) people.push({ id: person.id, org: spec.sources.find((s) => s.id === gp)!.org });
  }

  const client = new pg.Client({ connectionString: bench.url });
  await client.connect();
  const tx: Queryable = {
    query: async (sql, params) => {
      const r = await client.query(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    },
  };
  async function writeCost(label: string) {
    const base: number[] = [];
    const withAudit: number[] = [];
    const write: number[] = [];
    const commitWith: number[] = [];
    const commitWithout: number[] = [];
    for (let i = 0; i < RUNS * 2; i++) {
      const p = people[i % people.length]!;
      const audited = i % 2 === 1;
      const t0 = performance.now();
      await client.query('BEGIN');
      const items = await readItems(tx, p.id, FILTER);
      const t1 = performance.now();
      if (audited) {
        const event: AuditEventInput = {
          action: 'record.open',
          outcome: 'success',
          user: {
            id: `dr.${i % 20}`,
            org: p.org,
            role: 'R8000',
            name: `Dr Bench ${i % 20}`,
            issuer: 'bench',
          },
          personId: p.id,
          query: 'Patient/{id}/$everything',
          returnedIds: [p.id, ...items.map((x) => x.id)],
          basis: 'registered-gp',
          reasons: [],
        };
        await recordAuditEvent(tx, event, { settings });
        write.push(performance.now() - t1);
      }
      const t2 = performance.now();
      await client.query('COMMIT');
      (audited ? commitWith : commitWithout).push(performance.now() - t2);
      (audited ? withAudit : base).push(performance.now() - t0);
    }
    const b = summarise(base);
    const w = summarise(withAudit);
    row(`Record open transaction without the audit write (${label})`, base.length, b);
    row(`Same with the audit write and alert rules (${label})`, withAudit.length, w);
    row(
      `**Added by the audit write** (${label})`,
      withAudit.length,
      { p50: w.p50 - b.p50, p99: w.p99 - b.p99 },
      'target ≤ 1 ms at p50',
    );
    row(`… of which the recordAuditEvent call (${label})`, write.length, summarise(write));
    row(
      `… of which COMMIT, now flushing the WAL to disk (${label})`,
      commitWith.length,
      summarise(commitWith),
    );
    row(
      `COMMIT of the read-only transaction, for comparison (${label})`,
      commitWithout.length,
      summarise(commitWithout),
    );
  }

  let span: { from: Date; to: Date };
  if (!REUSE) {
    await writeCost(`${PERSONS}-person region, small trail`);
    const gate = createGate(db, 'http://bench/fhir', {});
    const opens: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const p = people[i % people.length]!;
      const t = performance.now();
      const user = {
        kind: 'user' as const,
        userId: `dr.${i % 20}`,
        org: p.org,
        role: 'R8000',
        issuer: 'bench',
      };
      await gate.everything({ user }, p.id);
      opens.push(performance.now() - t);
    }
    row('Full record open through the gate, in-process (for scale)', opens.length, summarise(opens));
    note(`generating ${EVENTS.toLocaleString('en-GB')} audit events`);
    span = await generateTrail(client, EVENTS);
  } else {
    const { rows } = await client.query<{ from: Date; to: Date }>(
      `SELECT min(at) AS from, max(at) AS to FROM audit_event WHERE user_id LIKE 'staff%'`,
    );
    span = rows[0]!;
  }
  const total = (await db.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_event')).rows[0]!.n;
  await writeCost(`${Number(total).toLocaleString('en-GB')}-event trail`);

  const dpo = dpoService(db, settings, {
    personByNhs: async (_q, id) => id,
    organisationNames: async () => new Map(),
    fhirBase: 'http://bench/fhir',
  });
  const actor = { userId: 'dpo.bench', org: 'X26', role: 'sharedcare-dpo' };
  const monthAgo = new Date(span.to.getTime() - 30 * 86_400_000).toISOString();
  async function report(
    label: string,
    q: { person?: string; user?: string; from: string; to: string },
    n: number,
  ) {
    const times: number[] = [];
    let events = 0;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await dpo.accessReport(actor, q, 'json');
      JSON.stringify(r.body);
      times.push(performance.now() - t);
      events = (r.body as unknown[]).length;
    }
    row(label, n, summarise(times), `${events} events; target ≤ 100 ms`);
  }
  const year = { from: span.from.toISOString(), to: span.to.toISOString() };
  await report('Access report: the heaviest person, one year (JSON)', { person: personUuid(0), ...year }, 30);
  for (const i of [1234, 98_765, 150_001])
    await report(
      `Access report: a typical person, one year (JSON)`,
      { person: personUuid(i % TRAIL_PERSONS), ...year },
      30,
    );
  await report(
    'Access report: the heaviest user, one month (JSON)',
    { user: userId(0), from: monthAgo, to: year.to },
    30,
  );
  for (const i of [17, 2500])
    await report(
      'Access report: a typical user, one month (JSON)',
      { user: userId(i % TRAIL_USERS), from: monthAgo, to: year.to },
      30,
    );

  note('verifying the whole trail');
  const t = performance.now();
  const v = await verifyAuditChain(db, { settings });
  const verifyMs = performance.now() - t;
  row(
    `Verify the whole trail (${v.events.toLocaleString('en-GB')} events, 17 chains)`,
    1,
    { p50: verifyMs, p99: verifyMs },
    `${v.ok ? 'intact' : `BROKEN: ${v.problem?.what}`}; target < 60 s`,
  );

  await client.end();
  await db.close();
  const out = [
    '| What | Runs | p50 (ms) | p99 (ms) | Notes |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  process.stdout.write(
    `\n${out}\n\nTotal run time ${((performance.now() - started) / 1000).toFixed(0)} s.\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
  if (process.env.BENCH_KEEP) note(`kept database ${bench.name}`);
  else await bench.drop();
}
