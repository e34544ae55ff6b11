import { SharedcareError } from '../errors/index.ts';
import type { Database } from '../db/index.ts';
import { getSource, type SourceSystem } from '../region/index.ts';
import { ingestEntries, type IngestDeps, type IngestResult } from './ingest.ts';
import { isNdjson, parseJson, parseNdjson } from './parse.ts';

export {
  ingestEntries,
  type EntryAction,
  type EntryResult,
  type IngestDeps,
  type IngestResult,
} from './ingest.ts';
export { isNdjson, parseJson, parseNdjson, type Entry } from './parse.ts';
export { itemId } from './references.ts';
export { itemMover } from './relink.ts';

/** The source system a token names, if it is registered and may send FHIR. */
export async function authoriseSource(
  db: Database,
  sourceId: string,
  channel: 'fhir' | 'hl7v2',
): Promise<SourceSystem> {
  const source = await getSource(db, sourceId);
  if (!source) throw new SharedcareError('forbidden', `source system ${sourceId} is not registered`);
  const allowed = channel === 'fhir' ? ['fhir', 'batch'] : ['hl7v2'];
  if (!allowed.includes(source.kind))
    throw new SharedcareError(
      'forbidden',
      `source system ${sourceId} is registered as ${source.kind}, not ${channel}`,
    );
  return source;
}

/** A request body from a source: a Bundle, a resource, or NDJSON (by content type). */
export async function ingestFhir(
  deps: IngestDeps,
  source: SourceSystem,
  contentType: string | undefined,
  body: string,
): Promise<IngestResult> {
  let entries;
  if (isNdjson(contentType)) entries = parseNdjson(body);
  else {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      // Node's message quotes the input; keep only the position so no patient data is echoed or logged.
      const where = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new SharedcareError('invalid-request', 'the body is not valid JSON', [
        { message: `the body is not valid JSON${where ? ` (at character ${where})` : ''}` },
      ]);
    }
    entries = parseJson(value);
  }
  return ingestEntries(deps, source, entries);
}
