/**
 * One gate, no leaks (issue 4): property-based tests that try to make Sharedcare show something it
 * must not. fast-check generates regions (persons with items of fifteen FHIR types from seven
 * sources, never-shared and ordinary codes, security labels, links between items, organisations
 * named; objections of every scope, overrides, some ended early, some objections withdrawn; readers
 * with random roles, organisations, launch contexts and break glass) and sends each through the
 * real HTTP API. Then random reads, each checked against an oracle written from the promises
 * (test/leaks/oracle.ts), which calls nothing in src/.
 *
 * Read paths covered (every route in src/api/*-routes.ts that returns a person's data):
 *   GET /fhir/Patient?identifier=…|N, GET /fhir/Patient/{id}, GET /fhir/Patient/{id}/$everything, …/$reconciled,
 *   …/$summary (the items it chooses must be allowed ones), $everything?_count=N following every next
 *   link to the end (each allowed item exactly once over the pages),
 *   GET /fhir/{Type}?patient=…[&date=…][&status=…][&code=…] for each clinical type (status and code
 *   under the type's own R4 names: clinical-status, vaccine-code, type, service-type), the same with
 *   _include=* (every other prescription names its drug as a Medication resource carrying the item's
 *   code and text, so an included Medication shows only where its prescription may), the Patient
 *   search by demographics (IHE PDQm: family+given+birthdate finds only people the reader may see;
 *   birthdate+postcode never finds a person whose address is restricted),
 *   GET /fhir/Consent?patient=…; and for the data protection officer GET /admin/objections?nhs=…
 *   and GET /dpo/access-report?person=…. POST /fhir/Patient/{id}/$break-glass is exercised as set-up.
 *   Not covered: /viewer/api/sources (region metadata, no person data); the viewer itself reads
 *   through the FHIR routes above. Add any new read route here.
 *
 * The oracle covers access (organisation, role, launch context, relationship, break glass),
 * never-shared codes (every row of config/sensitive-codes.csv, ICD-10 sub-codes in four spellings,
 * a region list of an organisation, an outside clinic, a local clinic code and a test), labels,
 * listed organisations as sender or named, links both ways, objections and overrides, role sections,
 * and search filters (so that it can say an allowed item is missing, too). It does not cover free
 * text (codes are the promise), retention, the HL7 v2 feed, or relinking a record to another person.
 *
 * Cases: every read is a case. The database that CI always has running, PostgreSQL, carries 20
 * regions × 500 reads (10,000, plus the data protection officer's reads; about 45 % of them with
 * access, the rest refusals, which must carry nothing either); PGlite runs 4 × 150, to show the same
 * on the embedded database (whose start alone costs ~14 s here). Without PostgreSQL, PGlite carries
 * the 10,000. Building a region costs ingest time (~0.5 s); a read costs 3–12 ms, mostly the gate's
 * transaction and audit row. The file took 93 s on this shared two-core machine at load average
 * 6–7 (41 s of CPU in the test process); expect about a minute on an idle one.
 * EXAMPLES (test/leaks/examples.ts) are small hand-made regions, one per way the property has found
 * to leak, run every time whatever the seed.
 *
 * The seed is printed at the start and on failure. Replay:
 *   FC_SEED=<seed> [FC_PATH=<path>] [LEAKS_DB=pglite|postgres] npx vitest run test/leaks.property.test.ts
 * FC_SHRINK=1 lets fast-check shrink the failing region (slow). LEAKS_REGIONS and LEAKS_READS change
 * the main database's plan (replay with the same values). LEAKS_SURVEY=1 is for exploring: it runs
 * every region, prints every kind of finding by read path, and does not fail.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, type DbKind } from './kit.ts';
import { region, type RegionSpec } from './leaks/arbitraries.ts';
import { EXAMPLES } from './leaks/examples.ts';
import {
  coverage,
  forbiddenIn,
  resetCoverage,
  performDpoReads,
  performRead,
  type Finding,
} from './leaks/check.ts';
import { startHarness, type Harness } from './leaks/harness.ts';
import { sendRegion } from './leaks/region.ts';
import { describeFindings, describeWorld } from './leaks/report.ts';

/** The database that carries the 10,000 reads: PostgreSQL when reachable (as in CI), else PGlite. */
const MAIN: DbKind = DB_KINDS.includes('postgres') ? 'postgres' : 'pglite';
const plan = (kind: DbKind) =>
  kind === MAIN
    ? { regions: Number(process.env.LEAKS_REGIONS ?? 20), reads: Number(process.env.LEAKS_READS ?? 500) }
    : { regions: 4, reads: 150 };
const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SURVEY = process.env.LEAKS_SURVEY === '1';
const KINDS = DB_KINDS.filter((k) => !process.env.LEAKS_DB || process.env.LEAKS_DB === k);
console.info(
  `[leaks] fast-check seed ${SEED} (replay: FC_SEED=${SEED} npx vitest run test/leaks.property.test.ts)`,
);

/** Sends a region, makes its reads and the DPO's, and checks each against the oracle. */
async function exercise(h: Harness, spec: RegionSpec) {
  const world = await sendRegion(h, spec);
  const forbidden = forbiddenIn(world);
  const findings: Finding[] = world.setupFindings.map((detail) => ({
    kind: 'setup',
    where: 'POST /fhir/Patient/{id}/$break-glass',
    detail,
  }));
  for (const read of spec.reads) findings.push(...(await performRead(h, world, forbidden, read)));
  const dpo = await performDpoReads(h, world, forbidden);
  findings.push(...dpo.findings);
  return { world, findings, reads: spec.reads.length + dpo.reads };
}

describe.each(KINDS)('no leaks on any read path, on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(async () => h?.drop());

  it.each(EXAMPLES)('%s', async (_name, spec) => {
    const { world, findings } = await exercise(h, spec);
    if (findings.length > 0) throw new Error(`${describeFindings(findings)}\n\n${describeWorld(world)}`);
  });

  it('shows each reader exactly what the promises allow, and nothing forbidden anywhere', async () => {
    const { regions, reads: perRegion } = plan(kind);
    let reads = 0;
    resetCoverage();
    const survey: Finding[] = [];
    const property = fc.asyncProperty(region(perRegion), async (spec: RegionSpec) => {
      const { world, findings, reads: n } = await exercise(h, spec);
      reads += n;
      if (SURVEY) survey.push(...findings);
      else if (findings.length > 0)
        throw new Error(`${describeFindings(findings)}\n\n${describeWorld(world)}`);
    });
    const run = await fc.check(property, {
      seed: SEED,
      numRuns: regions,
      endOnFailure: process.env.FC_SHRINK !== '1',
      ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
    });
    console.info(`[leaks] ${kind}: ${reads} reads (${JSON.stringify(coverage)})`);
    if (SURVEY) console.info(`[leaks] survey on ${kind}:\n${describeFindings(survey, 5)}`);
    if (run.failed) {
      const file = path.join(os.tmpdir(), `sharedcare-leaks-${kind}-${SEED}.json`);
      writeFileSync(file, JSON.stringify(run.counterexample, null, 1));
      const sizes = ['LEAKS_REGIONS', 'LEAKS_READS']
        .filter((k) => process.env[k])
        .map((k) => `${k}=${process.env[k]} `);
      const replay = `FC_SEED=${run.seed} FC_PATH="${run.counterexamplePath}" LEAKS_DB=${kind} ${sizes.join('')}npx vitest run test/leaks.property.test.ts`;
      throw new Error(
        `A read showed what it must not, or the oracle disagrees, on ${kind} after ${run.numRuns} region(s).\n` +
          `Seed ${run.seed}, path ${run.counterexamplePath}. Replay: ${replay}\n` +
          `The generated region is in ${file}.\n\n${(run.errorInstance as Error | undefined)?.message ?? String(run.errorInstance)}`,
      );
    }
    if (!process.env.FC_PATH) expect(reads).toBeGreaterThanOrEqual(regions * perRegion);
  }, 600_000);
});
