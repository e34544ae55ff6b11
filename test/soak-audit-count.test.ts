/**
 * The soak's count of audited opens (bench/soak/sample.ts auditedOpens) counts the trail as it
 * grows instead of all of it every sample. It must still count every successful record.open
 * exactly once, including one whose append took its sequence number before others and committed
 * after them (the soak's "audit = opens" check would otherwise fail a server that did nothing wrong).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditedOpens } from '../bench/soak/sample.ts';
import { DB_KINDS, freshDatabase, type TestDatabase } from './kit.ts';

describe.skipIf(!DB_KINDS.includes('postgres'))("the soak's count of audited opens (PostgreSQL)", () => {
  let t: TestDatabase;
  let reader: pg.Client;
  let late: pg.Client;
  let n = 0;
  const append = (c: pg.Client, action: string, outcome: string) =>
    c.query(
      `INSERT INTO audit_event (at, action, outcome, event, prev_hash, hash, chain, chain_seq)
       VALUES (now(), $1, $2, '{}', '', '', 99, $3)`,
      [action, outcome, ++n],
    );
  beforeAll(async () => {
    t = await freshDatabase('postgres');
    reader = new pg.Client({ connectionString: t.url });
    late = new pg.Client({ connectionString: t.url });
    await Promise.all([reader.connect(), late.connect()]);
  });
  afterAll(async () => {
    await Promise.allSettled([reader?.end(), late?.end()]);
    await t?.drop();
  });

  it('counts each successful open once, and one committed after later ones', async () => {
    const count = auditedOpens(reader, 10);
    for (let i = 0; i < 30; i++) {
      await append(reader, 'record.open', 'success');
      await append(reader, 'record.open', 'refused');
      await append(reader, 'fhir.search', 'success');
    }
    expect(await count()).toBe(30);
    await late.query('BEGIN');
    await append(late, 'record.open', 'success'); // its sequence number is taken, not yet visible
    for (let i = 0; i < 4; i++) await append(reader, 'record.open', 'success');
    expect(await count()).toBe(34);
    await late.query('COMMIT');
    for (let i = 0; i < 20; i++) await append(reader, 'record.open', 'success');
    expect(await count()).toBe(55);
    const { rows } = await reader.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_event WHERE action = 'record.open' AND outcome = 'success'`,
    );
    expect(rows[0]!.n).toBe(55);
    expect(await count()).toBe(55);
  });
});
