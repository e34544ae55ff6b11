/**
 * HL7 v2 intake, whatever the transport (MLLP, HTTP, batch files): land the message as received,
 * then parse, map to FHIR and pass it through the one intake pipeline, then acknowledge.
 *
 * - Land first: the raw message is stored before it is processed, so it can be replayed.
 * - ACK after commit: AA is recorded in the same transaction as the data it acknowledges.
 * - A resent message (same MSH-10 from the same source) is answered with the stored ACK.
 * - One source's messages are applied in the order they arrive (one queue per source).
 * - A database that cannot be reached is not an answer: the error propagates, no ACK is sent,
 *   and the sender retries.
 */
import type { Database, Queryable } from '../../db/index.ts';
import { isSharedcareError, type Problem } from '../../errors/index.ts';
import { getSource, type SourceSystem } from '../../region/index.ts';
import { hl7v2Format } from './format.ts';
import { ingestEntries, type IngestDeps } from '../pipeline/index.ts';
import { buildAck, type AckCode } from './ack.ts';
import type { CodeMap } from './common.ts';
import { UnsupportedMessageError } from './map.ts';
import { decodeMessage, type ParsedMessage } from './message.ts';
import { sha256Hex } from '../../fhir/index.ts';

export interface Hl7Outcome {
  ack: string;
  code: AckCode;
  /** the landed message's id (absent when it could not be tied to a source) */
  messageId?: string;
  /** true when this was a resend answered from what was stored */
  duplicate?: boolean;
}

export interface Hl7IntakeDeps {
  ingest: IngestDeps;
  now?: () => Date;
  /** each source's local codes mapped to standard ones (configuration: sources[].codeMap) */
  codeMaps?: Record<string, CodeMap>;
  /** counts by source and ACK code, for /metrics */
  onOutcome?: (sourceId: string, code: AckCode) => void;
}

/** How a message names its sender on MLLP: MSH-3 is the source's id, or MSH-4 its organisation. */
export async function sourceForMessage(
  db: Queryable,
  parsed: ParsedMessage,
): Promise<SourceSystem | undefined> {
  const byApp = parsed.sendingApplication ? await getSource(db, parsed.sendingApplication) : undefined;
  if (byApp?.kind === 'hl7v2') return byApp;
  if (!parsed.sendingFacility) return undefined;
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM source_system WHERE kind = 'hl7v2' AND org_ods = $1`,
    [parsed.sendingFacility],
  );
  return rows.length === 1 ? getSource(db, rows[0]!.id) : undefined;
}

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
  const queues = new Map<string, Promise<unknown>>();
  const format = hl7v2Format(deps.codeMaps);

  /** Runs fn after everything already queued with the same key (one source's one patient). */
  function inOrder<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return next;
  }

  /**
   * One message from a known source (HTTP: the token's; MLLP: found by `sourceForMessage`, or
   * `undefined` for an unknown sender, which is refused with AR and stores nothing).
   */
  async function receive(input: Buffer | string, knownSource?: SourceSystem): Promise<Hl7Outcome> {
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
    const source = knownSource ?? (await sourceForMessage(db, parsed));
    if (!source) {
      const problem = {
        message: `unknown sender: MSH-3 ${parsed.sendingApplication || '(empty)'} / MSH-4 ${parsed.sendingFacility || '(empty)'} is not a registered HL7 v2 source`,
        expression: 'MSH-3',
      };
      return { ack: buildAck(parsed.message, 'AR', [problem]), code: 'AR' };
    }
    return inOrder(orderKey(source.id, parsed), () => landAndProcess(source, parsed, text));
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

  async function landAndProcess(
    source: SourceSystem,
    parsed: ParsedMessage,
    text: string,
  ): Promise<Hl7Outcome> {
    const landed = await db.query<{ id: string }>(
      `INSERT INTO hl7_message (source_id, control_id, message_type, received_at, raw)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_id, control_id) DO NOTHING RETURNING id`,
      [source.id, parsed.controlId, `${parsed.type}^${parsed.event}`, now().toISOString(), text],
    );
    if (landed.rows.length === 0) {
      const { rows } = await db.query<{
        id: string;
        status: string;
        ack: string | null;
        ack_code: AckCode | null;
      }>('SELECT id, status, ack, ack_code FROM hl7_message WHERE source_id = $1 AND control_id = $2', [
        source.id,
        parsed.controlId,
      ]);
      const held = rows[0]!;
      if (held.status !== 'landed' && held.ack && held.ack_code)
        return { ack: held.ack, code: held.ack_code, messageId: String(held.id), duplicate: true };
      // landed but never finished (the process stopped half way): process it now
      return process(source, String(held.id), parsed);
    }
    return process(source, String(landed.rows[0]!.id), parsed);
  }

  /** Maps and stores one landed message; records the ACK with the data (AA) or as a dead letter. */
  async function process(
    source: SourceSystem,
    messageId: string,
    parsed: ParsedMessage,
  ): Promise<Hl7Outcome> {
    const finish = (tx: Queryable, status: string, code: AckCode, ack: string, problems?: Problem[]) =>
      tx.query(
        `UPDATE hl7_message SET status = $2, ack_code = $3, ack = $4, problems = $5, processed_at = $6,
           attempts = attempts + 1 WHERE id = $1`,
        [messageId, status, code, ack, problems ? JSON.stringify(problems) : null, now().toISOString()],
      );
    try {
      const entries = format.map(parsed, source);
      const ack = buildAck(parsed.message, 'AA');
      await ingestEntries(deps.ingest, source, entries, {
        inTransaction: (tx) => finish(tx, 'processed', 'AA', ack).then(() => undefined),
      });
      deps.onOutcome?.(source.id, 'AA');
      return { ack, code: 'AA', messageId };
    } catch (err) {
      if (!isSharedcareError(err) || err.code === 'audit-unavailable' || err.code === 'internal') throw err;
      const code: AckCode = err instanceof UnsupportedMessageError || err.code === 'forbidden' ? 'AR' : 'AE';
      const problems = err.problems.length ? err.problems : [{ message: err.message }];
      const ack = buildAck(parsed.message, code, problems);
      await finish(db, code === 'AR' ? 'rejected' : 'failed', code, ack, problems);
      deps.onOutcome?.(source.id, code);
      return { ack, code, messageId };
    }
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
      const outcome = await inOrder(orderKey(source.id, parsed), () =>
        process(source, String(row.id), parsed),
      );
      counts[outcome.code]++;
    }
    return { messages: rows.length, counts };
  }

  return { receive, replay };
}

export type Hl7Intake = ReturnType<typeof createHl7Intake>;
