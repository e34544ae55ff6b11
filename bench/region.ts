/**
 * The synthetic region the benchmarks load: written to disk by the same generator as
 * `sharedcare generate` (src/generate), and the two persons whose records are opened: a typical
 * one (about 300 clinical items) and a heavy one (the long tail, about 3,000). Persons are
 * deterministic in (seed, index), so a smaller region is a prefix of a larger one and the same two
 * persons exist in both.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_SEED,
  generatePerson,
  regionSpec,
  writeRegion,
  type GenerateSummary,
} from '../src/generate/index.ts';
import { isClinicalType } from '../src/fhir/index.ts';
import { note, since } from './stats.ts';

export interface RegionFiles {
  dir: string;
  persons: number;
  summary: GenerateSummary;
  /** source ids in load order, each with its folder */
  sources: { id: string; dir: string }[];
  generateMs: number;
  remove(): void;
}

export async function generateRegion(
  dir: string,
  persons: number,
  seed: number,
  now: Date,
  keep: boolean,
): Promise<RegionFiles> {
  rmSync(dir, { recursive: true, force: true });
  const started = performance.now();
  let last = 0;
  const summary = await writeRegion({
    persons,
    outDir: dir,
    seed,
    now,
    onProgress: (done) => {
      if (performance.now() - last > 15_000) {
        last = performance.now();
        note(`  generated ${done}/${persons} persons`);
      }
    },
  });
  const generateMs = since(started);
  return {
    dir,
    persons,
    summary,
    sources: regionSpec().sources.map((s) => ({ id: s.id, dir: path.join(dir, s.id) })),
    generateMs,
    remove: () => {
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ChosenPerson {
  label: 'typical' | 'heavy';
  index: number;
  nhsNumber: string;
  /** clinical resources the sources hold (sensitive ones included; the view withholds those) */
  clinicalResources: number;
  /** ODS code of the person's GP practice: the viewer, who has a legitimate relationship */
  gpOrg: string;
}

/** Picks, among the first `scan` persons, a typical person (~300 items) and the heaviest one. */
export function choosePersons(scan: number, seed = DEFAULT_SEED, now: Date): ChosenPerson[] {
  const spec = regionSpec();
  const gpOrgOf = new Map(
    spec.sources
      .filter((s) => spec.organisations.find((o) => o.ods === s.org)?.kind === 'gp')
      .map((s) => [s.id, s.org]),
  );
  let typical: ChosenPerson | undefined;
  let heavy: ChosenPerson | undefined;
  for (let index = 0; index < scan; index++) {
    const p = generatePerson(spec, index, seed, now);
    let n = 0;
    for (const list of p.bySource.values()) for (const r of list) if (isClinicalType(r.resourceType)) n++;
    const gpOrg = [...p.bySource.keys()].map((id) => gpOrgOf.get(id)).find((o) => o !== undefined);
    if (!gpOrg) continue;
    const candidate = { index, nhsNumber: p.nhsNumber, clinicalResources: n, gpOrg };
    if (p.heavy && (!heavy || n > heavy.clinicalResources)) heavy = { label: 'heavy', ...candidate };
    if (!p.heavy && (!typical || Math.abs(n - 300) < Math.abs(typical.clinicalResources - 300) - 0.5))
      typical = { label: 'typical', ...candidate };
  }
  return [typical, heavy].filter((p): p is ChosenPerson => p !== undefined);
}
