import { SharedcareError } from '../errors/index.ts';
import type { Database } from '../db/index.ts';
import { getOrganisation, getSource, type SourceSystem } from '../region/index.ts';
import { fhirFormat, type IntakeFormat } from './formats/index.ts';
import { ingestEntries, type IngestDeps, type IngestResult } from './pipeline/index.ts';

export {
  ingestEntries,
  type EntryAction,
  type EntryResult,
  type IngestDeps,
  type IngestOptions,
  type IngestResult,
  type RelationshipRecorder,
} from './pipeline/index.ts';
export { FHIR_JSON, FHIR_NDJSON, fhirFormat, type IntakeFormat } from './formats/index.ts';
export { hl7v2Format } from './hl7v2/format.ts';
export { isNdjson, parseJson, parseNdjson, type Entry } from './parse.ts';
export { itemId } from './references.ts';
export { createHl7Intake, sourceForMessage, type Hl7Intake, type Hl7Outcome } from './hl7v2/intake.ts';
export {
  startMllpListener,
  frame as mllpFrame,
  MllpFramer,
  mllpSenders,
  type MllpListener,
  type MllpSenders,
} from './hl7v2/mllp.ts';
export { SUPPORTED_MESSAGES } from './hl7v2/map.ts';
export { splitBatch } from './hl7v2/batch.ts';
export { decodeMessage as decodeHl7 } from './hl7v2/message.ts';
export { deadLetters, feedHealth, type DeadLetter, type FeedHealth } from './hl7v2/feeds.ts';
export { itemMover } from './relink.ts';

/** The source system a token names, if it is registered and may send FHIR. */
export async function authoriseSource(
  db: Database,
  sourceId: string,
  channel: 'fhir' | 'hl7v2',
): Promise<SourceSystem> {
  const source = await getSource(db, sourceId);
  if (!source) throw new SharedcareError('forbidden', `source system ${sourceId} is not registered`);
  // Checked at every request: an organisation switched to view-only stops sending at once.
  const org = await getOrganisation(db, source.org);
  if (!org?.contributes)
    throw new SharedcareError(
      'forbidden',
      `organisation ${source.org} does not contribute data (it is registered as view-only), so its source system ${sourceId} may not send; an administrator can register it with contributes`,
    );
  const allowed = channel === 'fhir' ? ['fhir', 'batch'] : ['hl7v2'];
  if (!allowed.includes(source.kind))
    throw new SharedcareError(
      'forbidden',
      `source system ${sourceId} is registered as ${source.kind}, not ${channel}`,
    );
  return source;
}

/** A body in one wire format from a source: parsed, mapped to FHIR, through the one pipeline. */
export async function ingestFormatted<P>(
  deps: IngestDeps,
  source: SourceSystem,
  format: IntakeFormat<P>,
  body: string,
): Promise<IngestResult> {
  return ingestEntries(deps, source, format.map(format.parse(body), source));
}

/** A request body from a source: a Bundle, a resource, or NDJSON (by content type). */
export async function ingestFhir(
  deps: IngestDeps,
  source: SourceSystem,
  contentType: string | undefined,
  body: string,
): Promise<IngestResult> {
  return ingestFormatted(deps, source, fhirFormat(contentType), body);
}
