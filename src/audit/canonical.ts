/**
 * The canonical form of an event and the chain hash. Each event's hash covers the previous
 * event's hash in its chain, its place in the chain, its time, the indexed columns (action,
 * outcome, user, person: a report finds events by them, so changing one must break the hash) and
 * the canonical event text. Variable-length fields are length-prefixed so no two different rows
 * hash the same text.
 *
 * The same formula exists twice: in SQL (the writer computes it from the chain head in the insert
 * statement itself; the verifier recomputes it server-side, using only pg_catalog built-ins so a
 * function planted in the database cannot vouch for a changed row) and in TypeScript (tests and the
 * benchmark's bulk generator). test/audit-chain.test.ts checks that they agree.
 */
import { createHash } from 'node:crypto';
import { stableStringify } from '../fhir/index.ts';
import type { AuditEvent, AuditEventInput } from './types.ts';

/** Chains that new events are spread over, one chosen per transaction (migration 006 makes them). */
export const CHAINS = 16;
/** The chain holding events written before migration 006, hashed the old way. */
export const LEGACY_CHAIN = 0;
export const LEGACY_GENESIS = '0'.repeat(64);

export function digestIds(ids: string[]): string {
  // each id followed by a newline, hashed as one string: the same digest as one update per piece,
  // without two calls into the hash per id (a heavy record releases thousands)
  return createHash('sha256')
    .update(ids.length > 0 ? `${ids.join('\n')}\n` : '')
    .digest('hex');
}

export function canonicalEvent(input: AuditEventInput, at: string): string {
  const { returnedIds, ...rest } = input;
  const event: AuditEvent = { ...rest, at };
  // the user's home postcode is for the alert rules only: the trail keeps no staff address
  if (event.user?.postcode !== undefined) {
    const { postcode: _postcode, ...user } = event.user;
    event.user = user;
  }
  if (returnedIds) event.returned = { count: returnedIds.length, digest: digestIds(returnedIds) };
  return stableStringify(event);
}

/** Each chain's first "previous hash": bound to the trail, so chains of two trails never splice. */
export function genesisHash(trailId: string, chain: number): string {
  return createHash('sha256').update(`sharedcare:audit-chain:${trailId}:${chain}`).digest('hex');
}

export interface HashFields {
  prevHash: string;
  chainSeq: string | bigint | number;
  atMs: number;
  action: string;
  outcome: string;
  userId: string | null;
  personId: string | null;
  event: string;
}

/** A value with its length in front (`~` for none), so no two different rows hash the same text. */
export const lp = (v: string | null): string => (v === null ? '~|' : `${Buffer.byteLength(v)}:${v}|`);

export function eventHash(f: HashFields): string {
  return createHash('sha256')
    .update(
      `${f.prevHash}|${f.chainSeq}|${f.atMs}|${lp(f.action)}${lp(f.outcome)}${lp(f.userId)}${lp(f.personId)}${f.event}`,
    )
    .digest('hex');
}

/** lp as an SQL expression. */
export const lpSql = (x: string): string =>
  `coalesce(pg_catalog.octet_length(${x})::text || ':' || ${x}, '~') || '|'`;

/** The same hash as an SQL expression over the given column or parameter expressions. */
export function eventHashSql(c: {
  prev: string;
  seq: string;
  at: string;
  action: string;
  outcome: string;
  user: string;
  person: string;
  event: string;
}): string {
  return `pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
    ${c.prev} || '|' || (${c.seq})::text || '|' || (round(pg_catalog.date_part('epoch', ${c.at}) * 1000)::bigint)::text || '|' ||
    ${lpSql(c.action)} || ${lpSql(c.outcome)} || ${lpSql(c.user)} || ${lpSql(`(${c.person})::text`)} || ${c.event},
    'UTF8')), 'hex')`;
}

/** SHA-256 (hex) of text, in SQL with pg_catalog built-ins only. */
export const sha256Sql = (text: string): string =>
  `pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(${text}, 'UTF8')), 'hex')`;

/** A time as whole milliseconds since 1970, in SQL (what Date.getTime() gives in TypeScript). */
export const epochMsSql = (at: string): string =>
  `(round(pg_catalog.date_part('epoch', ${at}) * 1000)::bigint)::text`;

/** The hash of events on the legacy chain (before migration 006): previous hash, seq, event text. */
export function legacyHash(prevHash: string, seq: string, event: string): string {
  return createHash('sha256').update(`${prevHash}|${seq}|${event}`).digest('hex');
}
