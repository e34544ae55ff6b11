/**
 * writeRegion: writes a whole synthetic region to disk, streaming person by person so that 10,000
 * persons (about three million resources) never sit in memory at once.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SEED, getDefaultNow, generatePerson } from './person.ts';
import { Hl7FeedWriter } from './hl7-feed.ts';
import { BUNDLE_SOURCES, regionSpec, SOURCE_IDS } from './region-spec.ts';
import { BundleWriter, NdjsonWriter, type SourceWriter } from './source-writers.ts';

export interface GenerateSummary {
  persons: number;
  resources: number;
  /** Resources that carry a code from config/sensitive-codes.csv. */
  sensitive: number;
  /** Files written, region.json included. */
  files: number;
  /** Resources written per source id. */
  bySource: Record<string, number>;
}

export interface WriteRegionOptions {
  persons: number;
  outDir: string;
  seed?: number;
  now?: Date;
  onProgress?: (done: number) => void;
}

const PROGRESS_EVERY = 100;

export async function writeRegion(opts: WriteRegionOptions): Promise<GenerateSummary> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const now = opts.now ?? getDefaultNow();
  const spec = regionSpec();
  await mkdir(opts.outDir, { recursive: true });
  await writeFile(join(opts.outDir, 'region.json'), `${JSON.stringify(spec, null, 2)}\n`);

  const writers = new Map<string, SourceWriter>();
  let hl7: Hl7FeedWriter | undefined;
  const bySource: Record<string, number> = {};
  for (const source of spec.sources) {
    const dir = join(opts.outDir, source.id);
    await mkdir(dir, { recursive: true });
    const bundleType = BUNDLE_SOURCES.get(source.id);
    if (source.kind === 'hl7v2')
      hl7 = new Hl7FeedWriter(dir, { application: source.id, facility: source.org }, seed, now);
    else
      writers.set(
        source.id,
        bundleType ? new BundleWriter(dir, source.id, bundleType, seed, now) : new NdjsonWriter(dir),
      );
    bySource[source.id] = 0;
  }

  let resources = 0;
  let sensitive = 0;
  for (let index = 0; index < opts.persons; index++) {
    const person = generatePerson(spec, index, seed, now);
    sensitive += person.sensitive;
    // the hospital's HL7 v2 feed is about the persons its EPR knows
    const acute = person.bySource.get(SOURCE_IDS.acute);
    if (acute && hl7)
      bySource[SOURCE_IDS.acutePas] = (bySource[SOURCE_IDS.acutePas] ?? 0) + (await hl7.addPerson(acute));
    for (const [sourceId, list] of person.bySource) {
      const writer = writers.get(sourceId);
      if (!writer) continue;
      await writer.addPerson(list);
      resources += list.length;
      bySource[sourceId] = (bySource[sourceId] ?? 0) + list.length;
    }
    if ((index + 1) % PROGRESS_EVERY === 0) opts.onProgress?.(index + 1);
  }

  let files = 1;
  for (const writer of writers.values()) files += await writer.close();
  if (hl7) files += await hl7.close();
  if (opts.persons % PROGRESS_EVERY !== 0) opts.onProgress?.(opts.persons);
  return { persons: opts.persons, resources, sensitive, files, bySource };
}
