/**
 * Generates a large audit trail (default 10 million events over the past year) straight into
 * PostgreSQL for `npm run bench:audit`: events are built and hash-chained here (the same hash as
 * the server's, src/audit eventHash) on the 16 chains, continuing each chain from its current
 * head, and streamed in with COPY. The secondary indexes are dropped first and built afterwards
 * (as a bulk import would), then the heads and the row-id sequence are set and the table vacuumed.
 *
 * Shape: 200,000 people and 5,000 staff at 20 organisations; 60% record opens, 30% section
 * searches, 8% patient searches, 2% refusals. Person 0 is a heavy record (1 event in 20,000 as
 * well as its share) and user 0 a heavy user (1 in 1,000), so the reports have a worst case.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { CHAINS, eventHash } from '../src/audit/index.ts';
import { copyFrom } from './pg-copy.ts';
import { note } from './stats.ts';

export const TRAIL_PERSONS = 200_000;
export const TRAIL_USERS = 5_000;
const ORGS = Array.from({ length: 20 }, (_, i) => `RX${String(i).padStart(3, '0')}`);
const YEAR_MS = 365 * 86_400_000;

/** A deterministic person id for index i (a UUID-shaped string). */
export const personUuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
export const userId = (i: number) => `staff${String(i).padStart(5, '0')}`;

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export interface TrailSpan {
  from: Date;
  to: Date;
}

export async function generateTrail(client: pg.ClientBase, total: number): Promise<TrailSpan> {
  const heads = (
    await client.query<{ chain: number; seq: string; hash: string }>(
      'SELECT chain::int AS chain, seq::text AS seq, hash FROM audit_chain_head WHERE chain > 0 ORDER BY chain',
    )
  ).rows;
  const seqNo = BigInt(
    (await client.query<{ s: string }>('SELECT coalesce(max(seq), 0)::text AS s FROM audit_event')).rows[0]!
      .s,
  );
  const state = heads.map((h) => ({ chain: h.chain, seq: BigInt(h.seq), hash: h.hash }));
  await client.query(`ALTER TABLE audit_event DROP CONSTRAINT audit_event_pkey;
    DROP INDEX audit_event_chain; DROP INDEX audit_event_person; DROP INDEX audit_event_user;`);

  const to = new Date();
  const from = new Date(to.getTime() - YEAR_MS);
  const digests = Array.from({ length: 1024 }, () => randomBytes(32).toString('hex'));
  const rnd = xorshift(42);
  const started = performance.now();
  let written = 0;

  function* chunks(): Generator<Buffer> {
    let lines: string[] = [];
    for (let i = 0; i < total; i++) {
      const c = state[i % CHAINS]!;
      c.seq += 1n;
      const atMs = from.getTime() + Math.floor((i * YEAR_MS) / total);
      const at = new Date(atMs).toISOString();
      const p = i % 20_000 === 0 ? 0 : 1 + Math.floor(rnd() * (TRAIL_PERSONS - 1));
      const u = i % 1_000 === 0 ? 0 : 1 + Math.floor(rnd() * (TRAIL_USERS - 1));
      const roll = rnd();
      const action =
        roll < 0.6
          ? 'record.open'
          : roll < 0.9
            ? 'record.search'
            : roll < 0.98
              ? 'patient.search'
              : 'access.refused';
      const outcome = action === 'access.refused' ? 'refused' : 'success';
      const person = personUuid(p);
      const user = userId(u);
      const org = ORGS[u % ORGS.length]!;
      const query =
        action === 'record.open'
          ? 'Patient/{id}/$everything'
          : action === 'record.search'
            ? 'Observation?date=ge2024-01-01'
            : 'Patient?identifier=nhs-number';
      const who = `{"id":"${user}","issuer":"urn:sharedcare:dev-issuer","name":"Staff Member ${u}","org":"${org}","role":"R8000"}`;
      const event =
        outcome === 'refused'
          ? `{"action":"${action}","at":"${at}","outcome":"refused","personId":"${person}","query":"${query}","reasons":["no-relationship"],"user":${who}}`
          : `{"action":"${action}","at":"${at}","basis":"encounter","outcome":"success","personId":"${person}","query":"${query}","reasons":[],"returned":{"count":${(i % 400) + 1},"digest":"${digests[i % 1024]}"},"user":${who}}`;
      const hash = eventHash({
        prevHash: c.hash,
        chainSeq: c.seq,
        atMs,
        action,
        outcome,
        userId: user,
        personId: person,
        event,
      });
      lines.push(
        `${seqNo + BigInt(i) + 1n}\t${c.chain}\t${c.seq}\t${at}\t${action}\t${outcome}\t${user}\t${org}\t${person}\t${event}\t${c.hash}\t${hash}\n`,
      );
      c.hash = hash;
      if (lines.length === 2000) {
        yield Buffer.from(lines.join(''));
        lines = [];
        written = i + 1;
        if (written % 1_000_000 === 0)
          note(
            `  ${written.toLocaleString('en-GB')} events (${((written / (performance.now() - started)) * 1000).toFixed(0)}/s)`,
          );
      }
    }
    if (lines.length) yield Buffer.from(lines.join(''));
  }

  await copyFrom(
    client,
    'COPY audit_event (seq, chain, chain_seq, at, action, outcome, user_id, user_org, person_id, event, prev_hash, hash) FROM STDIN',
    chunks(),
  );
  note(
    `copied ${total.toLocaleString('en-GB')} events in ${((performance.now() - started) / 1000).toFixed(0)} s; building indexes`,
  );
  const t = performance.now();
  await client.query(`SET maintenance_work_mem = '1GB'`);
  await client.query('ALTER TABLE audit_event ADD PRIMARY KEY (seq)');
  await client.query(
    'CREATE UNIQUE INDEX audit_event_chain ON audit_event (chain, chain_seq) INCLUDE (prev_hash, hash)',
  );
  await client.query('CREATE INDEX audit_event_person ON audit_event (person_id, at)');
  await client.query('CREATE INDEX audit_event_user ON audit_event (user_id, at)');
  for (const c of state)
    await client.query('UPDATE audit_chain_head SET seq = $2, hash = $3 WHERE chain = $1', [
      c.chain,
      String(c.seq),
      c.hash,
    ]);
  await client.query(`SELECT setval('audit_event_seq', $1::bigint + 1, false)`, [
    String(seqNo + BigInt(total)),
  ]);
  await client.query('VACUUM ANALYZE audit_event');
  note(`indexes, heads and vacuum in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  return { from, to };
}
