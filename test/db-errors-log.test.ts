/**
 * A database error carries the statement's values (PostgreSQL's `detail` and `where`, PGlite's
 * `params`): none of them may reach the log. Each test loads clinical text with a marker, makes
 * the database refuse a statement that holds it, and reads everything that was logged.
 */
import pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseError } from '../src/db/index.ts';
import { ingestEntries } from '../src/ingest/index.ts';
import { getSource } from '../src/region/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { bundle, condition, HYPERTENSION, patient } from './fhir-data.ts';
import { postFhir } from './http.ts';
import { captureLog, type CapturedLog } from './log-capture.ts';

const MARKER = 'Zebulon-Quartzfield-7731';
const NHS = '9990000034';

function noted(id: string, text: string): Resource {
  return condition(id, 'Patient/dbe-p', HYPERTENSION, { note: [{ text }] });
}

function expectNoMarker(log: CapturedLog, ...more: string[]): void {
  for (const text of [log.text(), ...more]) expect(text).not.toContain(MARKER.slice(0, 12));
}

function loggedErrors(log: CapturedLog): Record<string, unknown>[] {
  return log
    .lines()
    .filter((l) => l.err)
    .map((l) => l.err as Record<string, unknown>);
}

describe.each(DB_KINDS)('database errors are logged by code and statement only, on %s', (kind) => {
  let r: TestRegion;
  let log: CapturedLog;
  beforeAll(async () => {
    log = captureLog();
    r = await startRegion(kind, {}, { log: log.log });
    const res = await postFhir(
      r,
      'gp-riverside',
      bundle('transaction', [patient('dbe-p', NHS), noted('dbe-c', `${MARKER} first note`)]),
    );
    expect(res.status).toBe(200);
  });
  afterAll(async () => r.drop());

  it('a constraint violation (the row in the error detail) is answered 500 and logged without the row', async () => {
    await r.db.exec(
      `ALTER TABLE clinical_item ADD CONSTRAINT test_no_marker CHECK (body NOT LIKE '%${MARKER}%') NOT VALID`,
    );
    try {
      const res = await postFhir(
        r,
        'gp-riverside',
        bundle('transaction', [patient('dbe-p', NHS), noted('dbe-c', `${MARKER} changed note`)]),
      );
      expect(res.status).toBe(500);
      expectNoMarker(log, res.text);
      const err = loggedErrors(log).at(-1)!;
      expect(err).toMatchObject({ type: 'DatabaseError', code: '23514', constraint: 'test_no_marker' });
      expect(err.statement).toMatch(/^sc_[0-9a-f]{20}$/);
    } finally {
      await r.db.exec('ALTER TABLE clinical_item DROP CONSTRAINT test_no_marker');
    }
  });

  it('a NUL in clinical text that reaches the database (invalid byte sequence) leaves no text in the error or the log', async () => {
    // HTTP refuses a NUL before it gets here (test/bad-input.test.ts); intake's own path is what the
    // CLI's direct mode and any future route use, so the database itself is made to refuse it here.
    const source = (await getSource(r.db, 'gp-riverside'))!;
    const err = await ingestEntries(r.app.services.ingest, source, [
      { at: 'Condition', method: 'PUT', resource: noted('dbe-c', `${MARKER}\u0000 with a NUL`) },
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as DatabaseError).code).toMatch(/^22/);
    r.app.services.log.error({ err }, 'unhandled error');
    r.app.services.log.error({ error: err }, 'under another key');
    expectNoMarker(log, String(err), JSON.stringify(err), (err as Error).stack ?? '');
  });

  it('a raw driver error logged directly is reduced to its code', async () => {
    const raw = await r.db
      .query('SELECT $1::uuid', [`${MARKER}`])
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(raw).toBeInstanceOf(DatabaseError);
    expect((raw as DatabaseError).code).toBe('22P02');
    r.app.services.log.error({ err: raw }, 'cast failed');
    expectNoMarker(log, (raw as Error).message);
  });

  it.runIf(kind === 'postgres')(
    'a cancelled statement is answered 500, a lost connection 503 (try again), both logged without the record',
    async () => {
      await r.db.exec(`
        CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.body LIKE '%slow-please%' THEN PERFORM pg_sleep(20); END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER test_slow BEFORE INSERT OR UPDATE ON clinical_item FOR EACH ROW EXECUTE FUNCTION test_slow();`);
      const url = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
      const dbName = (await r.db.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
      url.pathname = `/${dbName}`;
      const admin = new pg.Client({ connectionString: url.toString() });
      await admin.connect();
      try {
        for (const [n, stop] of [
          [1, 'pg_cancel_backend'],
          [2, 'pg_terminate_backend'],
        ] as const) {
          const sending = postFhir(
            r,
            'gp-riverside',
            bundle('transaction', [patient('dbe-p', NHS), noted(`dbe-slow${n}`, `${MARKER} slow-please`)]),
          );
          let stopped = false;
          for (let i = 0; i < 200 && !stopped; i++) {
            await new Promise((res) => setTimeout(res, 25));
            const { rows } = await admin.query<{ ok: boolean }>(
              `SELECT ${stop}(pid) AS ok FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = $1`,
              [dbName],
            );
            stopped = rows.some((x) => x.ok);
          }
          expect(stopped).toBe(true);
          const res = await sending;
          // a lost connection is the server going away (a restart, a failover): the sender may retry
          expect(res.status).toBe(n === 1 ? 500 : 503);
          expectNoMarker(log, res.text);
          expect(loggedErrors(log).at(-1)).toMatchObject({
            type: 'DatabaseError',
            code: n === 1 ? '57014' : expect.stringMatching(/^(57P01|connection)$/),
          });
        }
      } finally {
        await r.db.exec('DROP TRIGGER test_slow ON clinical_item; DROP FUNCTION test_slow()');
        await admin.end();
      }
    },
  );
});
