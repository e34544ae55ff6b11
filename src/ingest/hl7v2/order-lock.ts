/**
 * The order of one source's messages about one patient across processes. The lanes (lanes.ts) keep
 * it within a process; with several processes (`serve --workers N`) or several servers, a sender
 * that spreads one patient over two connections could have two messages applied at once, each
 * reading the record before the other wrote it. Each batch's transaction therefore takes a
 * transaction-level advisory lock per (source, patient) before it applies anything: a message for
 * the same patient elsewhere waits until this one is committed, then reads what it wrote.
 *
 * PostgreSQL only: PGlite serves one process, where the lanes already order everything. The keys
 * are locked in ascending order, so two batches that share several patients cannot deadlock.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../../db/index.ts';

/** A stable signed 64-bit key for an order key (the first 8 bytes of its SHA-256). */
export function orderLockKey(orderKey: string): bigint {
  return createHash('sha256').update(`sharedcare:hl7v2-order:${orderKey}`).digest().readBigInt64BE(0);
}

/** The distinct lock keys of these order keys, ascending. */
export function orderLockKeys(orderKeys: string[]): bigint[] {
  return [...new Set(orderKeys.map(orderLockKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Takes the locks inside the caller's transaction; they are released at its commit or rollback.
 * One statement: unnest yields the array in order, so the locks are taken in the order given.
 */
export async function lockMessageOrder(tx: Queryable, orderKeys: string[]): Promise<void> {
  const keys = orderLockKeys(orderKeys);
  if (keys.length === 0) return;
  await tx.query('SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k', [keys.map(String)]);
}
