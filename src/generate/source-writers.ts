/**
 * Streams one source's records to disk: NDJSON parts (~500 persons each) or FHIR Bundles (~100
 * persons each, urn:uuid fullUrls, references rewritten to them). At most one write per file is in
 * flight, so generation overlaps with I/O while memory stays bounded.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { makeResourceUuid } from './fhir-build.ts';
import { makeLocalIdentifierSystem } from './identity.ts';
import { Rng, hashString } from './random.ts';

export const PERSONS_PER_PART = 500;
export const PERSONS_PER_BUNDLE = 100;
const FLUSH_CHARS = 1 << 20;

export interface SourceWriter {
  addPerson(resources: readonly Resource[]): Promise<void>;
  /** Finishes the last file; returns how many files were written. */
  close(): Promise<number>;
}

function formatPartName(prefix: string, n: number, ext: string): string {
  return `${prefix}-${String(n).padStart(4, '0')}.${ext}`;
}

export class NdjsonWriter implements SourceWriter {
  private handle: FileHandle | undefined;
  private pending: Promise<unknown> = Promise.resolve();
  private buffer: string[] = [];
  private bufferChars = 0;
  private personsInPart = 0;
  private parts = 0;

  constructor(private readonly dir: string) {}

  async addPerson(resources: readonly Resource[]): Promise<void> {
    if (!this.handle || this.personsInPart >= PERSONS_PER_PART) await this.rotate();
    let text = '';
    for (const r of resources) text += `${JSON.stringify(r)}\n`;
    this.buffer.push(text);
    this.bufferChars += text.length;
    this.personsInPart++;
    if (this.bufferChars >= FLUSH_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    await this.pending;
    if (this.buffer.length === 0 || !this.handle) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.bufferChars = 0;
    this.pending = this.handle.write(chunk);
  }

  private async rotate(): Promise<void> {
    await this.flush();
    await this.pending;
    await this.handle?.close();
    this.parts++;
    this.handle = await open(join(this.dir, formatPartName('part', this.parts, 'ndjson')), 'w');
    this.personsInPart = 0;
  }

  async close(): Promise<number> {
    await this.flush();
    await this.pending;
    await this.handle?.close();
    this.handle = undefined;
    return this.parts;
  }
}

/** Replaces every `reference` that names a resource in the bundle with that resource's fullUrl. */
function rewriteReferences(value: unknown, urls: ReadonlyMap<string, string>): void {
  if (Array.isArray(value)) {
    for (const item of value) rewriteReferences(item, urls);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const child = record[key];
    if (key === 'reference' && typeof child === 'string') {
      const url = urls.get(child);
      if (url) record[key] = url;
    } else if (typeof child === 'object') rewriteReferences(child, urls);
  }
}

export class BundleWriter implements SourceWriter {
  private entries: BundleEntry[] = [];
  private urls = new Map<string, string>();
  private persons = 0;
  private bundles = 0;
  private pending: Promise<unknown> = Promise.resolve();
  private rng: Rng;

  constructor(
    private readonly dir: string,
    private readonly sourceId: string,
    private readonly type: 'transaction' | 'collection',
    private readonly seed: number,
    private readonly now: Date,
  ) {
    this.rng = new Rng(seed, hashString(sourceId));
  }

  async addPerson(resources: readonly Resource[]): Promise<void> {
    for (const resource of resources) {
      const fullUrl = `urn:uuid:${makeResourceUuid(this.rng, this.bundles, this.entries.length + 1)}`;
      this.urls.set(`${resource.resourceType}/${resource.id ?? ''}`, fullUrl);
      const entry: BundleEntry = { fullUrl, resource };
      if (this.type === 'transaction') {
        entry.request = { method: 'POST', url: resource.resourceType };
        if (resource.resourceType === 'Patient') {
          entry.request.ifNoneExist = `identifier=${makeLocalIdentifierSystem(this.sourceId)}|${resource.id ?? ''}`;
        }
      }
      this.entries.push(entry);
    }
    if (++this.persons >= PERSONS_PER_BUNDLE) await this.writeBundle();
  }

  private async writeBundle(): Promise<void> {
    if (this.entries.length === 0) return;
    for (const entry of this.entries) rewriteReferences(entry.resource, this.urls);
    this.bundles++;
    const bundle: Bundle = {
      resourceType: 'Bundle',
      id: makeResourceUuid(new Rng(this.seed, hashString(this.sourceId), this.bundles), this.bundles, 0),
      meta: { versionId: '1', lastUpdated: this.now.toISOString() },
      type: this.type,
      timestamp: this.now.toISOString(),
      entry: this.entries,
    };
    this.entries = [];
    this.urls = new Map();
    this.persons = 0;
    await this.pending;
    const path = join(this.dir, formatPartName('bundle', this.bundles, 'json'));
    this.pending = open(path, 'w').then(async (handle) => {
      try {
        await handle.write(JSON.stringify(bundle));
      } finally {
        await handle.close();
      }
    });
  }

  async close(): Promise<number> {
    await this.writeBundle();
    await this.pending;
    return this.bundles;
  }
}
