/**
 * Property-based fuzzing of what outsiders send: intake (POST /ingest/fhir) and the read, DPO and
 * admin endpoints' query strings. For every request: no 5xx; every 4xx is an OperationOutcome
 * (problem+json on /admin); a refused request writes no clinical or identity row; nothing of the
 * request reaches the log.
 *
 * CI runs a fixed seed and a bounded count; `npm run fuzz -- --runs N [--seed S]` runs longer
 * (FUZZ_RUNS, FUZZ_SEED). The seed is printed for replay. It runs on PostgreSQL when reachable,
 * else PGlite: the properties are about HTTP, and one database keeps it under a minute.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintUserToken, DPO_ROLE } from '../src/access/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { personIdFor, postFhir } from './http.ts';
import { captureLog, type CapturedLog } from './log-capture.ts';
import { baseBundle, fuzzIngest, fuzzQuery, MARKER, type FuzzRequest } from './fuzz/requests.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const TIMEOUT = Math.max(120_000, RUNS * 2_000);
const KIND = DB_KINDS.at(-1)!;

describe(`fuzzing what outsiders send (${KIND}, seed ${SEED}, ${RUNS} runs each)`, () => {
  let r: TestRegion;
  let log: CapturedLog;
  let tokens: { source: string; user: string; dpo: string; admin: string };
  let personId: string;

  beforeAll(async () => {
    console.log(
      `[fuzz] seed=${SEED} runs=${RUNS} db=${KIND} (replay: npm run fuzz -- --seed ${SEED} --runs ${RUNS})`,
    );
    log = captureLog();
    r = await startRegion(KIND, {}, { log: log.log });
    const res = await postFhir(r, 'gp-riverside', baseBundle());
    expect(res.status, res.text).toBe(200);
    personId = await personIdFor(r, '9990000077');
    tokens = {
      source: await r.sourceToken('gp-riverside'),
      user: await r.userToken('dr.fuzz', 'Y90001'),
      dpo: await mintUserToken(r.config.devIssuerSecret!, {
        user: 'dpo.fuzz',
        org: 'Y90001',
        role: DPO_ROLE,
      }),
      admin: await r.adminToken(),
    };
  });
  afterAll(async () => r?.drop());

  /** Clinical and identity rows (the audit trail records reads, refused ones included, by design). */
  async function rows(): Promise<string> {
    const {
      rows: [c],
    } = await r.db.query<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM clinical_item) AS items,
              (SELECT count(*)::int FROM clinical_item_version) AS versions,
              (SELECT count(*)::int FROM person) AS persons,
              (SELECT count(*)::int FROM person_link) AS links`,
    );
    return JSON.stringify(c);
  }

  async function check(req: FuzzRequest, token: string): Promise<void> {
    const before = await rows();
    const logged = log.text().length;
    const res = await r.app.server.inject({
      method: req.method,
      url: req.url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(req.contentType ? { 'content-type': req.contentType } : {}),
      },
      ...(req.body !== undefined ? { payload: req.body } : {}),
    });
    const what = `${req.method} ${req.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
    expect(res.statusCode, what).toBeLessThan(500);
    if (res.statusCode >= 400) {
      const body = JSON.parse(res.body) as { resourceType?: string; status?: number };
      if (req.url.startsWith('/admin')) expect(body.status, what).toBe(res.statusCode);
      else expect(body.resourceType, what).toBe('OperationOutcome');
      expect(await rows(), what).toBe(before);
    }
    expect(log.text().slice(logged), what).not.toContain(MARKER);
  }

  it(
    'POST /ingest/fhir: no 5xx, an OperationOutcome for every refusal, nothing stored by it, nothing logged',
    async () => {
      await fc.assert(
        fc.asyncProperty(fuzzIngest, (req) => check(req, tokens.source)),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    },
    TIMEOUT,
  );

  it(
    'searches, $everything, /dpo and /admin query strings: the same',
    async () => {
      await fc.assert(
        fc.asyncProperty(fuzzQuery(personId), (req) =>
          check(
            req,
            req.url.startsWith('/dpo')
              ? tokens.dpo
              : req.url.startsWith('/admin')
                ? tokens.admin
                : tokens.user,
          ),
        ),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    },
    TIMEOUT,
  );
});
