/**
 * Landing and committing a batch of HL7 v2 messages (one lane's batch, see lanes.ts):
 *
 * 1. Land: every new message is stored as received, in one statement, and committed, before any is
 *    processed. A resent message (same MSH-10 from the same source) that was already answered is
 *    answered again from what was stored; one landed but never finished is processed now.
 * 2. Commit: the messages are processed in one transaction, each behind its own savepoint, so each
 *    is still all or nothing: an AE or AR rolls back that message's data only and records its
 *    answer. The ACKs are released only after COMMIT.
 * 3. A failure that is not the message's fault (the database, a bug) sends no ACK for the batch; a
 *    batch of several is then retried one message at a time, so that one bad message cannot hold
 *    up the others.
 */
import type { Database, Queryable } from '../../db/index.ts';
import { isSharedcareError, type Problem } from '../../errors/index.ts';
import { markSourceReceived, type SourceSystem } from '../../region/index.ts';
import type { IntakeFormat } from '../formats/index.ts';
import { ingestWithin, type IngestDeps } from '../pipeline/index.ts';
import { buildAck, type AckCode } from './ack.ts';
import { UnsupportedMessageError } from './map.ts';
import type { ParsedMessage } from './message.ts';
import { lockMessageOrder } from './order-lock.ts';

export interface Hl7Outcome {
  ack: string;
  code: AckCode;
  /** the landed message's id (absent when it could not be tied to a source) */
  messageId?: string;
  /** true when this was a resend answered from what was stored */
  duplicate?: boolean;
}

export interface Hl7Job {
  source: SourceSystem;
  /** one source's one patient (intake.ts orderKey): applied in order, across processes too */
  orderKey: string;
  parsed: ParsedMessage;
  text: string;
  /** set when the message is already landed (a replay) */
  messageId?: string;
  resolve(outcome: Hl7Outcome): void;
  reject(err: unknown): void;
}

export interface BatchDeps {
  ingest: IngestDeps;
  format: IntakeFormat<ParsedMessage>;
  now: () => Date;
  onOutcome?: (sourceId: string, code: AckCode) => void;
}

/** A source's last-received time is written at most once a second: one row every message would queue on. */
const MARK_EVERY_MS = 1000;

export function createBatchRunner(deps: BatchDeps): (jobs: Hl7Job[]) => Promise<void> {
  const db: Database = deps.ingest.db;
  const marked = new Map<string, number>();

  async function land(jobs: Hl7Job[]): Promise<{ job: Hl7Job; messageId: string }[]> {
    const fresh = jobs.filter((j) => !j.messageId);
    const at = deps.now().toISOString();
    const landed = fresh.length
      ? await db.query<{ id: string; source_id: string; control_id: string }>(
          `INSERT INTO hl7_message (source_id, control_id, message_type, received_at, raw)
           SELECT s, c, t, $4::timestamptz, r FROM unnest($1::text[], $2::text[], $3::text[], $5::text[]) AS m(s, c, t, r)
           ON CONFLICT (source_id, control_id) DO NOTHING RETURNING id, source_id, control_id`,
          [
            fresh.map((j) => j.source.id),
            fresh.map((j) => j.parsed.controlId),
            fresh.map((j) => `${j.parsed.type}^${j.parsed.event}`),
            at,
            fresh.map((j) => j.text),
          ],
        )
      : { rows: [] };
    const key = (s: string, c: string) => `${s}\u0000${c}`;
    const ids = new Map(landed.rows.map((r) => [key(r.source_id, r.control_id), String(r.id)]));
    const held = await heldMessages(fresh.filter((j) => !ids.has(key(j.source.id, j.parsed.controlId))));
    const out: { job: Hl7Job; messageId: string }[] = [];
    const first = new Map<string, Hl7Job>();
    for (const job of jobs) {
      if (job.messageId) {
        out.push({ job, messageId: job.messageId });
        continue;
      }
      const k = key(job.source.id, job.parsed.controlId);
      // the first of a batch's messages with one MSH-10 is processed; a resend is answered with it
      const earlier = first.get(k);
      if (earlier) {
        followWith(earlier, job);
        continue;
      }
      first.set(k, job);
      const id = ids.get(k);
      if (id !== undefined) {
        out.push({ job, messageId: id });
        continue;
      }
      const h = held.get(k);
      if (h && h.status !== 'landed' && h.ack && h.ack_code)
        job.resolve({ ack: h.ack, code: h.ack_code, messageId: String(h.id), duplicate: true });
      // landed but never finished (the process stopped half way), or resent within this batch
      else if (h) out.push({ job, messageId: String(h.id) });
    }
    return out;
  }

  /** The resend gets the first message's answer (or, with it, no answer). */
  function followWith(earlier: Hl7Job, resend: Hl7Job): void {
    const { resolve, reject } = earlier;
    earlier.resolve = (o) => {
      resolve(o);
      resend.resolve({ ...o, duplicate: true });
    };
    earlier.reject = (e) => {
      reject(e);
      resend.reject(e);
    };
  }

  async function heldMessages(jobs: Hl7Job[]) {
    if (jobs.length === 0) return new Map<string, HeldRow>();
    const { rows } = await db.query<HeldRow>(
      `SELECT m.id, m.source_id, m.control_id, m.status, m.ack, m.ack_code FROM hl7_message m
         JOIN unnest($1::text[], $2::text[]) AS k(s, c) ON m.source_id = k.s AND m.control_id = k.c`,
      [jobs.map((j) => j.source.id), jobs.map((j) => j.parsed.controlId)],
    );
    return new Map(rows.map((r) => [`${r.source_id}\u0000${r.control_id}`, r]));
  }

  const finish = (
    tx: Queryable,
    messageId: string,
    status: string,
    code: AckCode,
    ack: string,
    problems?: Problem[],
  ) =>
    tx.query(
      `UPDATE hl7_message SET status = $2, ack_code = $3, ack = $4, problems = $5, processed_at = $6,
         attempts = attempts + 1 WHERE id = $1`,
      [messageId, status, code, ack, problems ? JSON.stringify(problems) : null, deps.now().toISOString()],
    );

  /** One message behind a savepoint: AA with its data, or AE/AR with nothing but the answer. */
  async function processOne(tx: Queryable, job: Hl7Job, messageId: string): Promise<Hl7Outcome> {
    await tx.query('SAVEPOINT hl7_message');
    try {
      const entries = deps.format.map(job.parsed, job.source);
      const ack = buildAck(job.parsed.message, 'AA');
      await ingestWithin(tx, deps.ingest, job.source, entries);
      await finish(tx, messageId, 'processed', 'AA', ack);
      await tx.query('RELEASE SAVEPOINT hl7_message');
      return { ack, code: 'AA', messageId };
    } catch (err) {
      if (!isSharedcareError(err) || err.code === 'audit-unavailable' || err.code === 'internal') throw err;
      await tx.query('ROLLBACK TO SAVEPOINT hl7_message');
      const code: AckCode = err instanceof UnsupportedMessageError || err.code === 'forbidden' ? 'AR' : 'AE';
      const problems = err.problems.length ? err.problems : [{ message: err.message }];
      const ack = buildAck(job.parsed.message, code, problems);
      await finish(tx, messageId, code === 'AR' ? 'rejected' : 'failed', code, ack, problems);
      return { ack, code, messageId };
    }
  }

  async function commit(items: { job: Hl7Job; messageId: string }[]): Promise<void> {
    await deps.ingest.refreshLists?.(db);
    const outcomes = await db.transaction(async (tx) => {
      if (db.kind === 'postgres')
        await lockMessageOrder(
          tx,
          items.map((i) => i.job.orderKey),
        );
      const out: Hl7Outcome[] = [];
      for (const { job, messageId } of items) out.push(await processOne(tx, job, messageId));
      return out;
    });
    // committed: now the ACKs may go
    items.forEach(({ job }, k) => {
      deps.onOutcome?.(job.source.id, outcomes[k]!.code);
      job.resolve(outcomes[k]!);
    });
    const t = Date.now();
    for (const source of new Set(items.map((i) => i.job.source.id)))
      if (t - (marked.get(source) ?? 0) >= MARK_EVERY_MS) {
        marked.set(source, t);
        await markSourceReceived(db, source).catch(() => undefined);
      }
  }

  return async function runBatch(jobs: Hl7Job[]): Promise<void> {
    let items: { job: Hl7Job; messageId: string }[];
    try {
      items = await land(jobs);
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    if (items.length === 0) return;
    try {
      await commit(items);
    } catch (err) {
      if (items.length === 1) return items[0]!.job.reject(err);
      for (const item of items) await commit([item]).catch((e: unknown) => item.job.reject(e));
    }
  };
}

interface HeldRow {
  id: string;
  source_id: string;
  control_id: string;
  status: string;
  ack: string | null;
  ack_code: AckCode | null;
}
