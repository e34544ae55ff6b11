/**
 * Landing and committing a batch of HL7 v2 messages (one lane's batch, see lanes.ts):
 *
 * 1. Land: every new message is stored as received, in one statement, and committed, before any is
 *    processed. A resent message (same MSH-10 from the same source) that was already answered is
 *    answered again from what was stored; one landed but never finished is processed now.
 * 2. Commit: the messages are processed in one transaction, several patients' messages in one pass
 *    of the pipeline (passes.ts), and their answers recorded in one statement at its end, followed
 *    by the batch's identity audit events in one append, the last statement; the ACKs are released
 *    only after COMMIT. Each message is still all or nothing: the batch is first
 *    tried without savepoints (the usual case: every message is AA); if a message turns out to be
 *    wrong, that transaction is rolled back and the batch is run again one message at a time, each
 *    behind its own savepoint, so an AE or AR rolls back that message's data only and records its
 *    answer.
 * 3. A failure that is not the message's fault (the database, a bug) sends no ACK for the batch; a
 *    batch of several is then retried one message at a time, so that one bad message cannot hold
 *    up the others.
 */
import type { Database, Queryable } from '../../db/index.ts';
import { isSharedcareError, type Problem, type SharedcareError } from '../../errors/index.ts';
import { markSourceReceived, type SourceSystem } from '../../region/index.ts';
import type { IntakeFormat } from '../formats/index.ts';
import {
  appendIdentityEvents,
  ingestWithin,
  type IdentityEvents,
  type IngestDeps,
  type ReleaseAttachments,
} from '../pipeline/index.ts';
import { buildAck, type AckCode } from './ack.ts';
import { UnsupportedMessageError } from './map.ts';
import { isDocument } from './map-results.ts';
import { Segment, type ParsedMessage } from './message.ts';
import { lockMessageOrder } from './order-lock.ts';
import { passesOf } from './passes.ts';

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

  /** Every message's answer in one statement, at the end of the batch's transaction. */
  async function finishAll(tx: Queryable, answers: Answer[]): Promise<void> {
    if (answers.length === 0) return;
    await tx.query(
      `UPDATE hl7_message m SET status = u.status, ack_code = u.code, ack = u.ack, problems = u.problems::jsonb,
         processed_at = $6, attempts = m.attempts + 1
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, status, code, ack, problems)
       WHERE m.id = u.id`,
      [
        answers.map((a) => a.messageId),
        answers.map((a) => a.status),
        answers.map((a) => a.code),
        answers.map((a) => a.ack),
        answers.map((a) => (a.problems ? JSON.stringify(a.problems) : null)),
        deps.now().toISOString(),
      ],
    );
  }

  /**
   * The message's data; throws what the message got wrong (or anything else) as it comes. Its
   * identity events go to `held`, appended once the batch's work is done (commit).
   */
  async function apply(tx: Queryable, job: Hl7Job, messageId: string, held: IdentityEvents): Promise<Answer> {
    const entries = deps.format.map(job.parsed, job.source);
    const ack = buildAck(job.parsed.message, 'AA');
    await ingestWithin(tx, deps.ingest, job.source, entries, held);
    return { messageId, status: 'processed', code: 'AA', ack };
  }

  /** Several messages (one pass, see passes.ts) through the pipeline at once; each is answered AA. */
  async function applyPass(
    tx: Queryable,
    pass: { job: Hl7Job; messageId: string }[],
    held: IdentityEvents,
  ): Promise<Answer[]> {
    if (pass.length === 1) return [await apply(tx, pass[0]!.job, pass[0]!.messageId, held)];
    const entries = pass.flatMap(({ job }) => deps.format.map(job.parsed, job.source));
    await ingestWithin(tx, deps.ingest, pass[0]!.job.source, entries, held);
    return pass.map(({ job, messageId }) => ({
      messageId,
      status: 'processed',
      code: 'AA',
      ack: buildAck(job.parsed.message, 'AA'),
    }));
  }

  /**
   * One message behind a savepoint: AA with its data, or AE/AR with nothing but the answer (and
   * none of its identity events).
   */
  async function applyGuarded(
    tx: Queryable,
    job: Hl7Job,
    messageId: string,
    held: IdentityEvents,
  ): Promise<Answer> {
    await tx.query('SAVEPOINT hl7_message');
    try {
      const own: IdentityEvents = [];
      const answer = await apply(tx, job, messageId, own);
      await tx.query('RELEASE SAVEPOINT hl7_message');
      held.push(...own);
      return answer;
    } catch (err) {
      if (!isMessageFault(err)) throw err;
      await tx.query('ROLLBACK TO SAVEPOINT hl7_message');
      const code: AckCode = err instanceof UnsupportedMessageError || err.code === 'forbidden' ? 'AR' : 'AE';
      const problems = err.problems.length ? err.problems : [{ message: err.message }];
      const ack = buildAck(job.parsed.message, code, problems);
      return { messageId, status: code === 'AR' ? 'rejected' : 'failed', code, ack, problems };
    }
  }

  /**
   * The batch in one transaction. `guarded`: each message behind its own savepoint, so that one
   * message's AE/AR undoes that message alone. Unguarded (the first try): no savepoints, and the
   * messages go through the pipeline in passes of several (passes.ts); any message's fault aborts
   * the whole transaction, and the batch is run again guarded, so each message is still all or nothing.
   */
  async function commit(items: { job: Hl7Job; messageId: string }[], guarded: boolean): Promise<void> {
    await deps.ingest.refreshLists?.(db);
    const release = await readAhead(items.map((i) => i.job));
    const outcomes = await db
      .transaction(async (tx) => {
        if (db.kind === 'postgres')
          await lockMessageOrder(
            tx,
            items.map((i) => i.job.orderKey),
          );
        const answers: Answer[] = [];
        const held: IdentityEvents = [];
        if (guarded)
          for (const { job, messageId } of items) answers.push(await applyGuarded(tx, job, messageId, held));
        else for (const pass of passesOf(items)) answers.push(...(await applyPass(tx, pass, held)));
        await finishAll(tx, answers);
        // Last: an append locks one of the audit trail's chain heads until COMMIT, and record opens
        // whose append falls on that chain wait for it. Appended by each message, the batch's first
        // held its chain through every later message's work.
        await appendIdentityEvents(tx, held);
        return answers;
      })
      .finally(release);
    // committed: now the ACKs may go
    items.forEach(({ job }, k) => {
      const { ack, code, messageId } = outcomes[k]!;
      deps.onOutcome?.(job.source.id, code);
      job.resolve({ ack, code, messageId });
    });
    const t = Date.now();
    for (const source of new Set(items.map((i) => i.job.source.id)))
      if (t - (marked.get(source) ?? 0) >= MARK_EVERY_MS) {
        marked.set(source, t);
        await markSourceReceived(db, source).catch(() => undefined);
      }
  }

  /**
   * The PDF attachments of the batch's messages, read before its transaction opens: a letter can
   * take pdfjs seconds (up to the reader's 5 s limit), and read inside the transaction it held a
   * connection and the batch's patients' order locks all that time, while the same patients' next
   * messages, and other work wanting a connection, waited. The answers are remembered by the
   * bytes' digest (src/policy/pdf/extract.ts), where the classifier finds them. Only messages with
   * an embedded document are mapped for it (the transaction maps each again: mapping rewrites the
   * resources in place, so they are not reused); one that cannot be mapped is skipped here, and
   * fails, with its answer, inside the transaction as before.
   */
  async function readAhead(jobs: Hl7Job[]): Promise<ReleaseAttachments> {
    const read = deps.ingest.readAttachments;
    if (!read) return () => undefined;
    const resources = jobs
      .filter((job) => carriesDocument(job.parsed))
      .flatMap((job) => {
        try {
          return deps.format.map(job.parsed, job.source).flatMap((e) => (e.resource ? [e.resource] : []));
        } catch {
          return [];
        }
      });
    return (await read(resources)) ?? (() => undefined);
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
    let failure: unknown;
    try {
      return await commit(items, false);
    } catch (err) {
      failure = err;
    }
    // a message's own fault: the batch again, each message behind its savepoint
    if (isMessageFault(failure))
      try {
        return await commit(items, true);
      } catch (err) {
        failure = err;
      }
    // not a message's fault (the database, a bug): one at a time, so one cannot hold up the others
    if (items.length === 1) return items[0]!.job.reject(failure);
    for (const item of items) await commit([item], true).catch((e: unknown) => item.job.reject(e));
  };
}

/** Whether a message embeds a document (an OBX of value type ED or RP, or base64 data). */
function carriesDocument(parsed: ParsedMessage): boolean {
  return parsed.message.segments.some((s) => s.name === 'OBX' && isDocument(new Segment(s, 'OBX')));
}

/** What the message got wrong (answered AE/AR), as against the database or a bug (no answer). */
function isMessageFault(err: unknown): err is SharedcareError {
  return isSharedcareError(err) && err.code !== 'audit-unavailable' && err.code !== 'internal';
}

interface Answer {
  messageId: string;
  status: 'processed' | 'failed' | 'rejected';
  code: AckCode;
  ack: string;
  problems?: Problem[];
}

interface HeldRow {
  id: string;
  source_id: string;
  control_id: string;
  status: string;
  ack: string | null;
  ack_code: AckCode | null;
}
