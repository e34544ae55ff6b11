/**
 * HL7 v2 intake, whatever the transport (MLLP, HTTP, batch files): land the message as received,
 * then parse, map to FHIR and pass it through the one intake pipeline, then acknowledge.
 *
 * - Land first: the raw message is stored before it is processed, so it can be replayed.
 * - ACK after commit: AA is recorded in the same transaction as the data it acknowledges; messages
 *   that arrive together commit together, each all or nothing behind a savepoint (commit.ts).
 * - A resent message (same MSH-10 from the same source) is answered with the stored ACK.
 * - One source's messages about one patient are applied in the order they arrive (lanes.ts), and
 *   never two at once, whichever process received them (order-lock.ts).
 * - A database that cannot be reached is not an answer: the error propagates, no ACK is sent,
 *   and the sender retries.
 */
import type { Database, Queryable } from '../../db/index.ts';
import { isSharedcareError, type Problem } from '../../errors/index.ts';
import { getSource, type SourceSystem } from '../../region/index.ts';
import { hl7v2Format } from './format.ts';
import type { IngestDeps } from '../pipeline/index.ts';
import { buildAck, type AckCode } from './ack.ts';
import { createBatchRunner, type Hl7Job, type Hl7Outcome } from './commit.ts';
import { Lanes } from './lanes.ts';
import type { CodeMap } from './common.ts';
import { decodeMessage, type ParsedMessage } from './message.ts';
import { sha256Hex } from '../../fhir/index.ts';

/** The registered source an MLLP connection belongs to, and how it was known ("TLS certificate CN x"). */
export interface BoundSender {
  sourceId: string;
  by: string;
}

export interface Hl7IntakeDeps {
  ingest: IngestDeps;
  now?: () => Date;
  /** each source's local codes mapped to standard ones (configuration: sources[].codeMap) */
  codeMaps?: Record<string, CodeMap>;
  /** counts by source and ACK code, for /metrics */
  onOutcome?: (sourceId: string, code: AckCode) => void;
  /** how many batches commit side by side (default 2) */
  lanes?: number;
}

/**
 * Two lanes: one batch in PostgreSQL while the other is in JavaScript keeps both cores busy, and
 * fewer lanes make larger batches (BEGIN, COMMIT, landing, locks and answers are paid per batch):
 * with 32 connections, 2 lanes took 6.4 round trips a message against 7.2 with 4 (BENCHMARKS.md).
 */
const DEFAULT_LANES = 2;
/** the most messages one transaction commits */
const MAX_BATCH = 50;

/** How a message names its sender on MLLP: MSH-3 is the source's id, or MSH-4 its organisation. */
export async function sourceForMessage(
  db: Queryable,
  parsed: ParsedMessage,
  lookup: (db: Queryable, id: string) => Promise<SourceSystem | undefined> = getSource,
): Promise<SourceSystem | undefined> {
  const byApp = parsed.sendingApplication ? await lookup(db, parsed.sendingApplication) : undefined;
  if (byApp?.kind === 'hl7v2') return byApp;
  if (!parsed.sendingFacility) return undefined;
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM source_system WHERE kind = 'hl7v2' AND org_ods = $1`,
    [parsed.sendingFacility],
  );
  return rows.length === 1 ? lookup(db, rows[0]!.id) : undefined;
}

/**
 * A registered source, remembered for a second: every message names its sender, and a statement
 * per message to read a row that changes once a year was a tenth of intake's round trips. A name
 * that is not registered is looked up every time (a source registered now is known at once).
 */
export function sourceCache(ttlMs = SOURCE_TTL_MS) {
  const known = new Map<string, { at: number; source: SourceSystem }>();
  return async (db: Queryable, id: string): Promise<SourceSystem | undefined> => {
    const t = Date.now();
    const hit = known.get(id);
    if (hit && t - hit.at < ttlMs && t >= hit.at) return hit.source;
    const source = await getSource(db, id);
    if (source) known.set(id, { at: t, source });
    else known.delete(id);
    return source;
  };
}
const SOURCE_TTL_MS = 1000;

/**
 * Messages from one source about one patient are applied in the order they arrive; different
 * patients' messages go on side by side. The patient is the first PID-3 identifier as sent.
 */
function orderKey(sourceId: string, parsed: ParsedMessage): string {
  const pid = parsed.message.getSegment('PID');
  return `${sourceId}|${pid?.getField(3)?.getComponent(1) ?? ''}`;
}

export function createHl7Intake(deps: Hl7IntakeDeps) {
  const db: Database = deps.ingest.db;
  const now = deps.now ?? (() => new Date());
  const format = hl7v2Format(deps.codeMaps);
  const runBatch = createBatchRunner({ ingest: deps.ingest, format, now, onOutcome: deps.onOutcome });
  const lanes = new Lanes<Hl7Job>(deps.lanes ?? DEFAULT_LANES, MAX_BATCH, runBatch);
  const lookupSource = sourceCache();

  /** Queues a message on its lane; resolves once its ACK is committed. */
  function submit(source: SourceSystem, parsed: ParsedMessage, text: string, messageId?: string) {
    const key = orderKey(source.id, parsed);
    return new Promise<Hl7Outcome>((resolve, reject) =>
      lanes.push(key, { source, orderKey: key, parsed, text, messageId, resolve, reject }),
    );
  }

  /**
   * One message from a known source (HTTP: the token's), or on MLLP from the source its connection
   * is bound to (`connection`: by TLS client certificate or peer address) or else the one MSH-3/MSH-4
   * name (`sourceForMessage`). An unknown sender, or a message whose MSH-3/MSH-4 name another
   * source than its connection's, is refused with AR and stores nothing.
   */
  async function receive(
    input: Buffer | string,
    knownSource?: SourceSystem,
    connection?: BoundSender,
  ): Promise<Hl7Outcome> {
    const text = typeof input === 'string' ? input : decodeMessage(input);
    // PostgreSQL text cannot hold NUL, and no HL7 v2 field may: refused before anything is stored
    if (text.includes('\u0000'))
      return {
        ack: buildAck(undefined, 'AR', [
          { message: 'the message contains a NUL character', expression: 'MSH' },
        ]),
        code: 'AR',
      };
    let parsed: ParsedMessage;
    try {
      parsed = format.parse(text);
    } catch (err) {
      const problems = isSharedcareError(err) ? err.problems : [{ message: 'not an HL7 v2 message' }];
      if (knownSource) await landUnparseable(knownSource, text, problems);
      return { ack: buildAck(undefined, 'AR', problems), code: 'AR' };
    }
    const named = knownSource ? undefined : await sourceForMessage(db, parsed, lookupSource);
    let source = knownSource ?? named;
    if (!knownSource && connection) {
      const bound = await lookupSource(db, connection.sourceId);
      const refuse = (message: string) => ({
        ack: buildAck(parsed.message, 'AR', [{ message, expression: 'MSH-3' }]),
        code: 'AR' as const,
      });
      if (bound?.kind !== 'hl7v2')
        return refuse(
          `unknown sender: this connection's ${connection.by} is mapped to ${connection.sourceId}, which is not a registered HL7 v2 source`,
        );
      if (named && named.id !== bound.id)
        return refuse(
          `MSH-3/MSH-4 name source ${named.id}, but this connection (${connection.by}) belongs to ${bound.id}`,
        );
      source = bound;
    }
    if (!source) {
      const problem = {
        message: `unknown sender: MSH-3 ${parsed.sendingApplication || '(empty)'} / MSH-4 ${parsed.sendingFacility || '(empty)'} is not a registered HL7 v2 source`,
        expression: 'MSH-3',
      };
      return { ack: buildAck(parsed.message, 'AR', [problem]), code: 'AR' };
    }
    return submit(source, parsed, text);
  }

  async function landUnparseable(source: SourceSystem, text: string, problems: Problem[]): Promise<void> {
    const ack = buildAck(undefined, 'AR', problems);
    await db.query(
      `INSERT INTO hl7_message (source_id, control_id, message_type, received_at, raw, status, ack_code, ack, problems, processed_at)
       VALUES ($1, $2, '', $3, $4, 'rejected', 'AR', $5, $6, $3) ON CONFLICT (source_id, control_id) DO NOTHING`,
      [source.id, `sha256:${sha256Hex(text)}`, now().toISOString(), text, ack, JSON.stringify(problems)],
    );
    deps.onOutcome?.(source.id, 'AR');
  }

  /**
   * Processes landed messages again, in the order they arrived: those never finished (after a
   * crash), or, for a replay after a mapping fix, every message of a source since a time.
   */
  async function replay(filter: {
    sourceId?: string;
    since?: string;
    onlyPending?: boolean;
    deadOnly?: boolean;
  }) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.sourceId) where.push(`source_id = $${params.push(filter.sourceId)}`);
    if (filter.since) where.push(`received_at >= $${params.push(filter.since)}`);
    if (filter.onlyPending) where.push(`status = 'landed'`);
    if (filter.deadOnly) where.push(`status IN ('failed', 'rejected')`);
    const { rows } = await db.query<{ id: string; source_id: string; raw: string }>(
      `SELECT id, source_id, raw FROM hl7_message ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`,
      params,
    );
    const counts: Record<AckCode, number> = { AA: 0, AE: 0, AR: 0 };
    for (const row of rows) {
      const source = await getSource(db, row.source_id);
      if (!source) continue;
      let parsed: ParsedMessage;
      try {
        parsed = format.parse(row.raw);
      } catch {
        counts.AR++;
        continue;
      }
      const outcome = await submit(source, parsed, row.raw, String(row.id));
      counts[outcome.code]++;
    }
    return { messages: rows.length, counts };
  }

  return { receive, replay };
}

export type Hl7Intake = ReturnType<typeof createHl7Intake>;
export type { Hl7Outcome } from './commit.ts';
