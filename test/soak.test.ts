/**
 * The soak, short (about a minute of load at a gentle rate): a real `sharedcare serve` on a
 * PostgreSQL server of the test's own (test/pg-server.ts), the whole mix (opens, searches, FHIR intake, HL7 v2, a DPO
 * report), and its verdict. Asserts correctness only: no request failed, one record.open audit
 * event for every open served, every operation of the mix was served, and the verdict and chart
 * were produced. Timing is the full soak's business (`npm run soak`, BENCHMARKS.md).
 */
import { describe, expect, it } from 'vitest';
import { renderChart } from '../bench/soak/chart.ts';
import { runSoak } from '../bench/soak/run.ts';
import { DB_KINDS, PG_URL } from './kit.ts';
import { ownPostgres } from './pg-server.ts';

describe.skipIf(!DB_KINDS.includes('postgres'))('soak (short, PostgreSQL)', () => {
  it('serves the whole mix without an error and audits every open once', { timeout: 300_000 }, async () => {
    const pgServer = await ownPostgres('soak test', PG_URL);
    const r = await runSoak({
      minutes: 0.75,
      persons: 20,
      // a small region: 20 clinicians a practice (the full soak has 1,000, each warmed up first)
      clinicians: 20,
      adminUrl: pgServer.adminUrl,
      rates: { opens: 3, heavyOpens: 0, searches: 1, intake: 5, hl7: 1, dpoPerMinute: 6 },
    }).finally(() => pgServer.stop());
    expect(r.errors).toEqual({});
    expect(r.verdict.errors).toBe(0);
    expect(r.verdict.opensServed).toBeGreaterThan(0);
    expect(r.verdict.auditOpens).toBe(r.verdict.opensServed);
    for (const op of ['open', 'search', 'intake', 'hl7v2', 'dpo-report'])
      expect(r.totals[op], `${op} served`).toBeGreaterThan(0);
    // each window says how busy the machine was and what the server's backends waited on
    for (const sample of r.samples) {
      expect(sample.machine?.busy).toBeGreaterThan(0);
      expect(sample.waits).toBeDefined();
    }
    expect(r.samples.length).toBeGreaterThanOrEqual(4);
    for (const s of r.samples) {
      expect(s.rssMiB).toBeGreaterThan(0);
      expect(s.heapUsedMiB).toBeGreaterThan(0);
      expect(s.dbConnections).toBeGreaterThan(0);
    }
    expect(r.verdict.checks.map((c) => c.name)).toEqual(['errors', 'open p99', 'memory flat', 'audit']);
    expect(r.verdict.line).toMatch(/^SOAK (PASS|FAIL): errors ok/);
    const png = await renderChart(r.samples, 'test');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
