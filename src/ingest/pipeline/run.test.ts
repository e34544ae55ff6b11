import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// eslint-disable-next-line no-restricted-imports -- the intake deps exactly as the server wires them
import { buildIngestDeps, policyFromConfig } from '../../app.ts';
import { loadConfig } from '../../config/index.ts';
import type { Database } from '../../db/index.ts';
import { isSharedcareError } from '../../errors/index.ts';
import type { SourceSystem } from '../../region/index.ts';
import type { IntakeFormat } from '../formats/index.ts';
import { ingestFormatted } from '../index.ts';
import type { Entry } from '../parse.ts';
import { stageDatabase } from './db.test-kit.ts';
import { MARK_EVERY_MS } from './run.ts';
import { NHS } from './fixtures.test-kit.ts';

/**
 * A wire format the pipeline has never seen: "local id,birth date,SNOMED code" lines. It is a parser
 * and a mapper and nothing else; linking, references, labels, storage and audit come from the pipeline.
 */
const CSV: IntakeFormat<string[][]> = {
  name: 'test CSV',
  parse: (text) =>
    text
      .trim()
      .split('\n')
      .map((l) => l.split(',')),
  map: (rows) =>
    rows.flatMap(([local, birthDate, code], n): Entry[] => [
      {
        at: `line ${n + 1}`,
        method: 'PUT',
        resource: {
          resourceType: 'Patient',
          id: local,
          identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS }],
          birthDate,
        } as Resource,
      },
      {
        at: `line ${n + 1}`,
        method: 'PUT',
        resource: {
          resourceType: 'Condition',
          id: `${local}-${code}`,
          subject: { reference: `Patient/${local}` },
          code: { coding: [{ system: 'http://snomed.info/sct', code }] },
        } as Resource,
      },
    ]),
};

describe('the intake pipeline', () => {
  let db: Database;
  let source: SourceSystem;
  const config = loadConfig({}, { NODE_ENV: 'test' });
  beforeAll(async () => ({ db, source } = await stageDatabase()));
  afterAll(async () => db.close());
  const deps = () => buildIngestDeps(db, config, policyFromConfig(config));
  const count = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM clinical_item')).rows[0]!.n;

  it('takes a new format that brings only a parser and a mapper, and withholds what the policy says', async () => {
    const result = await ingestFormatted(
      deps(),
      source,
      CSV,
      'h1,1970-01-01,38341003\nh1,1970-01-01,86406008\n',
    );
    expect(result.counts).toEqual({ linked: 2, created: 2 });
    const { rows } = await db.query<{ sensitivity: string[] }>(
      'SELECT sensitivity FROM clinical_item ORDER BY sensitivity',
    );
    expect(rows.map((r) => r.sensitivity.length > 0)).toEqual([false, true]);
  });

  it('stores nothing of a message when one of its items is wrong (all or nothing)', async () => {
    const before = await count();
    let problems: (string | undefined)[] = [];
    try {
      await ingestFormatted(deps(), source, CSV, 'h2,1970-01-01,38341003\nh3,1970-13-45,38341003\n');
    } catch (err) {
      if (!isSharedcareError(err)) throw err;
      problems = err.problems.map((p) => p.expression);
    }
    expect(problems[0]).toMatch(/^line 2/);
    expect(await count()).toBe(before);
  });

  it("writes the source's freshness at most once a second (on the injected clock)", async () => {
    let t = 4_000_000_000_000;
    const timed = { ...deps(), now: () => t };
    const received = async () =>
      (
        await db.query<{ at: string | null }>(
          "SELECT last_received_at::text AS at FROM source_system WHERE id = 'pas-test'",
        )
      ).rows[0]!.at;
    await ingestFormatted(timed, source, CSV, 'f1,1970-01-01,38341003\n');
    const first = await received();
    expect(first).not.toBeNull();
    t += MARK_EVERY_MS - 1;
    await ingestFormatted(timed, source, CSV, 'f2,1970-01-01,38341003\n');
    expect(await received()).toBe(first);
    t += 1;
    await ingestFormatted(timed, source, CSV, 'f3,1970-01-01,38341003\n');
    expect(await received()).not.toBe(first);
  });
});
