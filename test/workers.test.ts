/**
 * `sharedcare serve --workers 2` on PostgreSQL: two processes on one port, sharing nothing but the
 * database (a PostgreSQL server of the test's own, test/pg-server.ts). Every request goes on a new connection, which node:cluster hands to the processes in
 * turn; the test-only header x-sharedcare-worker (SHAREDCARE_EXPOSE_WORKER=1, refused in
 * production) shows which served it. A SMART launch begun on one process is finished on the other,
 * its session is honoured by both, a break-glass grant made on one opens the record on the other,
 * the rate limit counts one client's requests across both, and two HL7 v2 messages about one
 * patient sent to both at once are applied one after the other.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, PG_URL } from './kit.ts';
import { freePort } from './pg-cluster.ts';
import { ownPostgres } from './pg-server.ts';
import { clinicianToken, sleep, sourceToken, startServer, type ServerProcess } from './server-process.ts';
import { mintUserToken } from '../src/access/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { pkce } from './smart-kit.ts';

const NHS = '9990000026';
const RATE_LIMIT = 30;
const hasPostgres = DB_KINDS.includes('postgres');
if (!hasPostgres) console.warn('[workers test] skipped: PostgreSQL is not reachable at TEST_DATABASE_URL');

interface Answer {
  status: number;
  worker: string;
  body: string;
  headers: http.IncomingHttpHeaders;
}

describe.skipIf(!hasPostgres)('two server processes on one port (serve --workers 2)', () => {
  const dbName = `sc_test_workers_${process.pid}`;
  let server: ServerProcess;
  let personId: string;

  /** One request on a connection of its own, from a loopback address of the test's choosing. */
  const send = (
    path: string,
    opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
  ) =>
    new Promise<Answer>((resolve, reject) => {
      const req = http.request(
        `${server.base}${path}`,
        {
          method: opts.method ?? 'GET',
          headers: opts.headers,
          agent: false,
          localAddress: opts.from ?? '127.0.0.1',
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              worker: String(res.headers['x-sharedcare-worker']),
              body,
              headers: res.headers,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });

  let pgServer: Awaited<ReturnType<typeof ownPostgres>> | undefined;
  beforeAll(async () => {
    pgServer = await ownPostgres('workers test', PG_URL);
    const admin = new pg.Client({ connectionString: pgServer.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(pgServer.adminUrl);
    url.pathname = `/${dbName}`;
    server = await startServer({
      databaseUrl: url.toString(),
      port: await freePort(),
      args: ['--workers', '2'],
      waitFor: /processes 2 /,
      // MALLOC_ARENA_MAX unset: the primary gives its workers a setting of its own (see below)
      env: {
        SHAREDCARE_EXPOSE_WORKER: '1',
        SHAREDCARE_RATE_LIMIT: String(RATE_LIMIT),
        MALLOC_ARENA_MAX: undefined,
        GLIBC_TUNABLES: undefined,
      },
    });
    const subject = { reference: 'Patient/w1' };
    const ingest = await send('/ingest/fhir', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await sourceToken('gp-riverside')}`,
        'content-type': 'application/fhir+json',
      },
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: {
              resourceType: 'Patient',
              id: 'w1',
              identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS }],
            },
            request: { method: 'PUT', url: 'Patient/w1' },
          },
          {
            resource: {
              resourceType: 'Condition',
              id: 'c1',
              code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] },
              subject,
              recordedDate: '2024-01-01',
            },
            request: { method: 'PUT', url: 'Condition/c1' },
          },
        ],
      }),
    });
    expect(ingest.status, ingest.body).toBe(200);
    const found = await send(`/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`, {
      headers: { authorization: `Bearer ${await clinicianToken('finder')}` },
    });
    personId = (JSON.parse(found.body) as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id;
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (!pgServer) return;
    const admin = new pg.Client({ connectionString: pgServer.adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    await pgServer.stop();
  });

  it('serves from both processes, on one port', async () => {
    const workers = new Set<string>();
    for (let i = 0; i < 6; i++) workers.add((await send('/health')).worker);
    expect([...workers].sort()).toEqual(['1', '2']);
  });

  it("runs each server process with glibc's arenas capped, as the primary was not", () => {
    /** a process's environment, as the kernel keeps it */
    const environ = (pid: number) =>
      Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
    const primary = server.child.pid!;
    const workers = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(workers).toHaveLength(2);
    // the test started the primary without the setting (src/cli/workers.ts workerEnvironment)
    expect(environ(primary).MALLOC_ARENA_MAX).toBeUndefined();
    for (const pid of workers) expect(environ(pid).MALLOC_ARENA_MAX).toBe('2');
  });

  it('answers /metrics for both processes together, whichever of them takes the scrape', async () => {
    /** the requests to /health counted in a scrape, over every status */
    const healthCount = (text: string) =>
      [...text.matchAll(/^sharedcare_http_request_duration_seconds_count\{([^}]*)\} (\d+)$/gm)]
        .filter((m) => m[1]!.includes('route="/health"'))
        .reduce((n, m) => n + Number(m[2]), 0);
    const before = await send('/metrics');
    expect(before.status, before.body).toBe(200);
    const served = new Set<string>();
    for (let i = 0; i < 10; i++) served.add((await send('/health')).worker);
    expect([...served].sort()).toEqual(['1', '2']);

    const scrapes: Answer[] = [];
    for (let i = 0; i < 4; i++) scrapes.push(await send('/metrics'));
    expect(new Set(scrapes.map((s) => s.worker)).size).toBe(2);
    for (const s of scrapes) {
      expect(s.status, s.body).toBe(200);
      expect(s.headers['content-type']).toMatch(/^text\/plain/);
      // the same total from either process: the ten just sent on top of what both had before
      expect(healthCount(s.body)).toBe(healthCount(before.body) + 10);
      expect(s.body).toMatch(/^sharedcare_server_processes\{state="serving"\} 2$/m);
      expect(s.body).toMatch(/^sharedcare_server_processes\{state="counted"\} 2$/m);
    }
  });

  it('a SMART launch made on one process is authorised and exchanged on the other, and its session works on both', async () => {
    const redirect = `${server.base}/viewer/`;
    const hops: string[][] = [];
    for (let flow = 0; flow < 4; flow++) {
      const from = '127.0.0.3';
      const launched = await send('/launch', {
        method: 'POST',
        from,
        headers: {
          authorization: `Bearer ${await clinicianToken(`dr.smart${flow}`)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ patient: NHS }),
      });
      expect(launched.status, launched.body).toBe(201);
      const verifier = pkce();
      const params = new URLSearchParams({
        response_type: 'code',
        client_id: 'sharedcare-viewer',
        redirect_uri: redirect,
        launch: (JSON.parse(launched.body) as { launch: string }).launch,
        aud: `${server.base}/fhir`,
        state: 'st',
        scope: 'launch patient/*.read',
        ...verifier.params,
      });
      const authorised = await send(`/oauth/authorize?${params.toString()}`, { from });
      const code = new URL(String(authorised.headers.location)).searchParams.get('code');
      expect(code, authorised.body).toBeTruthy();
      const exchanged = await send('/oauth/token', {
        method: 'POST',
        from,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: code!,
          redirect_uri: redirect,
          client_id: 'sharedcare-viewer',
          code_verifier: verifier.verifier,
        }).toString(),
      });
      expect(exchanged.status, exchanged.body).toBe(200);
      const session = (JSON.parse(exchanged.body) as { access_token: string }).access_token;
      const bearer = { authorization: `Bearer ${session}` };
      const read = await send(`/fhir/Patient/${personId}/$everything`, { from, headers: bearer });
      expect(read.status, read.body).toBe(200);
      expect(read.body).toContain('38341003');
      const viewer = await send('/viewer/api/session', { from, headers: bearer });
      expect(viewer.status, viewer.body).toBe(200);
      hops.push([launched, authorised, exchanged, read, viewer].map((a) => a.worker));
    }
    // each step was taken on the other process than the one before it, in some flow
    for (let step = 1; step < 5; step++) expect(hops.some((h) => h[step] !== h[step - 1])).toBe(true);
  });

  it('a break-glass grant made on one process opens the record on the other', async () => {
    const secret = loadConfig({}, { NODE_ENV: 'test' }).devIssuerSecret!;
    const crossed: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const from = '127.0.0.4';
      const token = await mintUserToken(secret, { user: `dr.ed${i}`, org: 'RX1', role: 'R8000' });
      const headers = { authorization: `Bearer ${token}` };
      const refused = await send(`/fhir/Patient/${personId}/$everything`, { from, headers });
      expect(refused.status, refused.body).toBe(403);
      const grant = await send(`/fhir/Patient/${personId}/$break-glass`, {
        method: 'POST',
        from,
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'emergency-care' }),
      });
      expect(grant.status, grant.body).toBe(200);
      const read = await send(`/fhir/Patient/${personId}/$everything`, { from, headers });
      expect(read.status, read.body).toBe(200);
      expect(read.body).toContain('38341003');
      crossed.push(grant.worker !== read.worker);
    }
    expect(crossed).toContain(true);
  });

  it('counts one client against the rate limit across both processes', async () => {
    const from = '127.0.0.5';
    const answers: Answer[] = [];
    for (let i = 0; i < RATE_LIMIT + 6; i++) answers.push(await send('/fhir/metadata', { from }));
    expect(new Set(answers.map((a) => a.worker)).size).toBe(2);
    // per-process counting would let 2 × 30 through; shared, the 31st is refused
    expect(answers.filter((a) => a.status === 200)).toHaveLength(RATE_LIMIT);
    const refused = answers.slice(RATE_LIMIT);
    expect(refused.map((a) => a.status)).toEqual(refused.map(() => 429));
    expect(new Set(refused.map((a) => a.worker)).size).toBe(2);
    const outcome = JSON.parse(refused[0]!.body) as { resourceType: string; issue: { code: string }[] };
    expect(outcome).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
    // another client is not held back by this one
    expect((await send('/fhir/metadata', { from: '127.0.0.6' })).status).toBe(200);
  });

  it('applies two HL7 v2 messages about one patient, sent to both processes at once, one after the other', async () => {
    const oru = (control: string, potassium: string) =>
      [
        `MSH|^~\\&|gp-hl7|Y90001|SHAREDCARE|REGION|20240315101500||ORU^R01^ORU_R01|${control}|P|2.4`,
        'PID|1||H-ORDER^^^Y90001^MR||ORDERLY^Sam||19800202|F',
        'OBR|1|ORD-K|FIL-K|24326-1^Electrolytes panel^LN|||20240316090000||||||||||||||||||F',
        `OBX|1|NM|2823-3^Potassium^LN||${potassium}|mmol/L^mmol/L^UCUM|3.5-5.3|N|||F|||20240316090000`,
      ].join('\r');
    const token = await sourceToken('gp-hl7');
    const post = (text: string, from: string) =>
      send('/ingest/hl7v2', {
        method: 'POST',
        from,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'x-application/hl7-v2+er7',
        },
        body: text,
      });
    const url = new URL(pgServer!.adminUrl);
    url.pathname = `/${dbName}`;
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    /** the potassium result as stored: its version, value, and the values of its earlier versions */
    const stored = async () => {
      const value = (body: string) =>
        String((JSON.parse(body) as { valueQuantity?: { value: number } }).valueQuantity?.value);
      const { rows } = await db.query<{ id: string; version: number; body: string }>(
        `SELECT id, version, body FROM clinical_item WHERE source_id = 'gp-hl7' AND body LIKE '%2823-3%'`,
      );
      expect(rows).toHaveLength(1);
      const history = await db.query<{ body: string }>(
        'SELECT body FROM clinical_item_version WHERE id = $1 ORDER BY version',
        [rows[0]!.id],
      );
      return {
        version: rows[0]!.version,
        value: value(rows[0]!.body),
        history: history.rows.map((h) => value(h.body)),
      };
    };
    try {
      const first = await post(oru('K-0', '4.0'), '127.0.0.7');
      expect(first.body).toMatch(/MSA\|AA\|K-0/);
      const crossed: boolean[] = [];
      for (let round = 1; round <= 6; round++) {
        const [a, b] = [`K-${round}a`, `K-${round}b`];
        const values = { [a]: `4.${round}1`, [b]: `4.${round}2` };
        const answers = await Promise.all([
          post(oru(a, values[a]!), `127.0.1.${round}`),
          post(oru(b, values[b]!), `127.0.2.${round}`),
        ]);
        expect(answers[0]!.body).toMatch(new RegExp(`MSA\\|AA\\|${a}`));
        expect(answers[1]!.body).toMatch(new RegExp(`MSA\\|AA\\|${b}`));
        crossed.push(answers[0]!.worker !== answers[1]!.worker);
        // the order they were applied in, as each recorded it
        const { rows } = await db.query<{ control_id: string }>(
          `SELECT control_id FROM hl7_message WHERE control_id = ANY($1::text[]) ORDER BY processed_at, id`,
          [[a, b]],
        );
        const [earlier, later] = rows.map((r) => r.control_id);
        const now = await stored();
        // each applied once, on top of the other: two new versions, the later message's value in force
        expect(now.version).toBe(1 + 2 * round);
        expect(now.value).toBe(values[later!]);
        expect(now.history.at(-1)).toBe(values[earlier!]);
      }
      expect(crossed).toContain(true);
    } finally {
      await db.end();
    }
  });
  // Last: it pauses one of the processes.
  it('a process that does not answer is left out of /metrics, and the answer says how many are counted', async () => {
    const primary = server.child.pid!;
    const workers = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim().split(/\s+/);
    expect(workers).toHaveLength(2);
    const paused = Number(workers[1]);
    process.kill(paused, 'SIGSTOP');
    try {
      // the paused process cannot take a connection node:cluster hands it: ask again until the
      // other one answers, which it does once the primary gives up on the paused one
      let answer: Answer | undefined;
      for (let i = 0; i < 4 && !answer; i++)
        answer = await Promise.race([send('/metrics'), sleep(6000).then(() => undefined)]);
      expect(answer?.status, answer?.body).toBe(200);
      expect(answer!.body).toMatch(/^sharedcare_server_processes\{state="serving"\} 2$/m);
      expect(answer!.body).toMatch(/^sharedcare_server_processes\{state="counted"\} 1$/m);
      expect(answer!.body).toMatch(/^sharedcare_http_request_duration_seconds_count\{/m);
    } finally {
      process.kill(paused, 'SIGCONT');
    }
    // back: both counted again
    let both = false;
    for (let i = 0; i < 10 && !both; i++)
      both = /^sharedcare_server_processes\{state="counted"\} 2$/m.test((await send('/metrics')).body);
    expect(both).toBe(true);
  }, 60_000);
});
