/**
 * The failover drill, shared by the test (a few failovers) and `npm run bench:failover` (ten or
 * more): a primary and a synchronous standby of our own (pg-cluster.ts), `sharedcare serve` on
 * both hosts in libpq's form, and load (intake and record opens) running while the primary is
 * killed with kill -9, the standby promoted, and the old primary rebuilt as the new standby
 * (ping-pong). At the end, every write Sharedcare acknowledged must be on the last primary.
 */
import net from 'node:net';
import pg from 'pg';
import { freePort, PgPair } from './pg-cluster.ts';
import { clinicianToken, sleep, sourceToken, startServer, type ServerProcess } from './server-process.ts';

const NHS = '9990000018';
const FAMILY = 'Failoverfamily';

export interface FailoverCycle {
  /** ms from the kill to /ready answering 503 */
  killToNotReady: number;
  /** ms from the kill to the standby's promotion finishing */
  killToPromoted: number;
  /** ms from the kill to the first record open that returned data */
  killToFirstRead: number;
  /** ms from the kill to /ready answering 200 again */
  killToReady: number;
}

export interface DrillResult {
  cycles: FailoverCycle[];
  ingestsAcknowledged: number;
  opensAcknowledged: number;
  /** HL7 v2 messages over MLLP answered AA */
  messagesAcknowledged: number;
  /** acknowledged ingests whose resource is not on the last primary */
  ingestsLost: string[];
  /** HL7 v2 messages answered AA that are not processed on the last primary */
  messagesLost: string[];
  /** opens that returned data whose audit event is not on the last primary */
  openAuditsLost: string[];
  /** answers other than 200 (by status) or AA (by ACK code, or 'no ACK'); 503 must carry an OperationOutcome */
  refusals: Record<string, number>;
  /** answers that were neither 200 nor a clean 503 with an OperationOutcome (or no answer) */
  unclean: string[];
  serverSurvived: boolean;
  /** lines of the server's output that carry the test patient's NHS number or family name */
  leakedLines: string[];
}

async function rows(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

const column = async (url: string, sql: string) =>
  (await rows(url, sql)).map((r) => String(Object.values(r)[0]));

function bundleFor(n: number) {
  const subject = { reference: 'Patient/p1' };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        resource: {
          resourceType: 'Patient',
          id: 'p1',
          identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS }],
          name: [{ family: FAMILY, given: ['Alex'] }],
          birthDate: '1970-01-01',
        },
        request: { method: 'PUT', url: 'Patient/p1' },
      },
      {
        resource: {
          resourceType: 'Observation',
          id: `obs-${n}`,
          status: 'final',
          code: { coding: [{ system: 'http://snomed.info/sct', code: '1049301000000100' }] },
          subject,
          effectiveDateTime: '2024-04-15',
          valueQuantity: { value: 40 + (n % 20), unit: 'mmol/mol' },
        },
        request: { method: 'PUT', url: `Observation/obs-${n}` },
      },
    ],
  };
}

/** Runs the drill; everything it started is stopped and removed before it returns or throws. */
export async function runFailoverDrill(opts: {
  failovers: number;
  /** concurrent request loops of each kind (intake, opens) */
  concurrency?: number;
  report?: (line: string) => void;
}): Promise<DrillResult> {
  const say = opts.report ?? (() => undefined);
  const pair = await PgPair.create({ sync: true });
  let server: ServerProcess | undefined;
  try {
    await pair.waitForStandby(column);
    server = await startServer({ databaseUrl: pair.url(), port: await freePort() });
    say(`primary ${pair.primary.port}, standby ${pair.standby.port}, server ${server.base}`);
    const mllpPort = Number(/MLLP on [\d.]+:(\d+)/.exec(server.output())?.[1]);
    const load = new Load(server.base, mllpPort);
    await load.seed();
    const running = load.run(opts.concurrency ?? 2);
    const cycles: FailoverCycle[] = [];
    try {
      for (let i = 0; i < opts.failovers; i++) {
        await load.waitForOpens(20);
        cycles.push(
          await failover(pair, server.base, load).catch((err: Error) => {
            // what the server said is the clue (it never names a patient: checked below)
            err.message += `\nin failover ${i + 1}; the server's last lines:\n${server!.output().split('\n').slice(-40).join('\n')}`;
            throw err;
          }),
        );
        say(`failover ${i + 1}: ${JSON.stringify(cycles.at(-1))}`);
      }
      await load.waitForOpens(20);
    } finally {
      await load.stop(running);
    }
    const url = pair.nodeUrl(pair.primary);
    const present = new Set(
      await column(url, `SELECT source_local_id FROM clinical_item WHERE resource_type = 'Observation'`),
    );
    const audited = new Set(
      await column(url, `SELECT DISTINCT user_id FROM audit_event WHERE user_id LIKE 'reader-%'`),
    );
    const processed = new Set(
      await column(url, `SELECT control_id FROM hl7_message WHERE status = 'processed'`),
    );
    const output = server.output();
    return {
      cycles,
      ingestsAcknowledged: load.ingested.length,
      opensAcknowledged: load.opened.length,
      messagesAcknowledged: load.messages.length,
      ingestsLost: load.ingested.filter((id) => !present.has(id)),
      messagesLost: load.messages.filter((id) => !processed.has(id)),
      openAuditsLost: load.opened.filter((u) => !audited.has(u)),
      refusals: load.refusals,
      unclean: load.unclean,
      serverSurvived: server.isRunning(),
      leakedLines: output.split('\n').filter((l) => l.includes(NHS) || l.includes(FAMILY)),
    };
  } finally {
    await server?.stop();
    await pair.destroy();
  }
}

/** One failover: kill -9, /ready 503, promote, first read, rebuild the old primary as standby. */
async function failover(pair: PgPair, base: string, load: Load): Promise<FailoverCycle> {
  const killed = Date.now();
  const since = (t: number) => t - killed;
  pair.killPrimary();
  const notReady = await until(async () => (await status(`${base}/ready`)) === 503, '/ready to answer 503');
  await pair.promote();
  const promoted = Date.now();
  const firstRead = load.nextOpenAfter(killed);
  const old = 1 - pair.primaryIndex;
  // the new primary waits for a synchronous standby before it acknowledges a commit: rebuild one
  await pair.makeStandby(old);
  await pair.waitForStandby(column);
  const ready = await until(
    async () => (await status(`${base}/ready`)) === 200,
    '/ready to answer 200',
    () =>
      fetch(`${base}/ready`, { signal: AbortSignal.timeout(5000) }).then(
        async (r) => `last answer ${r.status} ${await r.text()}`,
        (e: Error) => `last answer: ${e.message}`,
      ),
  );
  return {
    killToNotReady: since(notReady),
    killToPromoted: since(promoted),
    killToFirstRead: since(await firstRead),
    killToReady: since(ready),
  };
}

async function status(url: string): Promise<number> {
  return fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
    () => 0,
  );
}

async function until(
  check: () => Promise<boolean>,
  what: string,
  last: () => Promise<string> = async () => '',
  ms = 60_000,
): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}; ${await last()}`);
    await sleep(50);
  }
}

/** Intake and record opens in loops; what was acknowledged is remembered. */
class Load {
  ingested: string[] = [];
  opened: string[] = [];
  messages: string[] = [];
  refusals: Record<string, number> = {};
  unclean: string[] = [];
  private personId = '';
  private n = 0;
  private stopping = false;
  /** start and end of each open that returned data */
  private openTimes: { start: number; end: number }[] = [];
  private waiters: { after: number; resolve: (t: number) => void }[] = [];

  constructor(
    private readonly base: string,
    private readonly mllpPort: number,
  ) {}

  async seed(): Promise<void> {
    const res = await this.ingest();
    if (!res) throw new Error('the first ingest failed');
    const token = await clinicianToken('finder');
    const found = (await (
      await fetch(`${this.base}/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { entry?: { resource: { id: string } }[] };
    this.personId = found.entry?.[0]?.resource.id ?? '';
    if (!this.personId) throw new Error('the seeded person was not found');
  }

  run(concurrency: number): Promise<unknown> {
    const loops: Promise<void>[] = [];
    for (let i = 0; i < concurrency; i++) {
      loops.push(this.loop(() => this.ingest()));
      loops.push(this.loop(() => this.open()));
    }
    loops.push(this.loop(() => this.hl7()));
    return Promise.all(loops);
  }

  async stop(running: Promise<unknown>): Promise<void> {
    this.stopping = true;
    await running;
  }

  /** Resolves with the time the first open sent after `t` returned data. */
  nextOpenAfter(t: number): Promise<number> {
    const seen = this.openTimes.find((x) => x.start > t);
    if (seen) return Promise.resolve(seen.end);
    return new Promise((resolve) => this.waiters.push({ after: t, resolve }));
  }

  async waitForOpens(count: number): Promise<void> {
    const target = this.opened.length + count;
    while (this.opened.length < target) await sleep(50);
  }

  private async loop(step: () => Promise<unknown>): Promise<void> {
    while (!this.stopping) {
      const ok = await step();
      if (!ok) await sleep(50); // do not spin while the database is away
    }
  }

  private async ingest(): Promise<boolean> {
    const n = ++this.n;
    const res = await this.send(`${this.base}/ingest/fhir`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await sourceToken('gp-riverside')}`,
        'content-type': 'application/fhir+json',
      },
      body: JSON.stringify(bundleFor(n)),
    });
    if (res?.status !== 200) return false;
    this.ingested.push(`obs-${n}`);
    return true;
  }

  private async open(): Promise<boolean> {
    const user = `reader-${++this.n}`;
    const start = Date.now();
    const res = await this.send(`${this.base}/fhir/Patient/${this.personId}/$everything`, {
      headers: { authorization: `Bearer ${await clinicianToken(user)}` },
    });
    if (res?.status !== 200) return false;
    const body = res.body as { entry?: { resource: { resourceType: string } }[] };
    if (!body.entry?.some((e) => e.resource.resourceType === 'Observation')) {
      this.unclean.push('an open answered 200 without the record');
      return false;
    }
    this.opened.push(user);
    const end = Date.now();
    this.openTimes.push({ start, end });
    this.waiters = this.waiters.filter((w) => (start > w.after ? (w.resolve(end), false) : true));
    return true;
  }

  /** One ADT^A01 over MLLP on a connection of its own: AA, a negative ACK, or no ACK (closed). */
  private async hl7(): Promise<boolean> {
    const control = `FO-${++this.n}`;
    const message = [
      `MSH|^~\\&|gp-hl7|Y90001|SHAREDCARE|REGION|20240315101500||ADT^A01^ADT_A01|${control}|P|2.4`,
      'EVN|A01|20240315101500',
      `PID|1||H${this.n}^^^Y90001^MR~${NHS}^^^NHS^NH||${FAMILY.toUpperCase()}^Alex||19700101|F`,
      `PV1|1|I|WARD7^BED2^^Y90001||||C123^Jones^Alan|||300|||||||||V-${this.n}`,
    ].join('\r');
    const answer = await mllpExchange(this.mllpPort, message);
    if (answer === 'timeout') {
      this.unclean.push('MLLP: neither an ACK nor a closed connection within 30 s');
      return false;
    }
    const code = answer === 'closed' ? 'no ACK' : (/\rMSA\|(\w\w)\|/.exec(answer)?.[1] ?? 'unreadable ACK');
    if (code === 'AA') {
      this.messages.push(control);
      return true;
    }
    this.refusals[code] = (this.refusals[code] ?? 0) + 1;
    if (code !== 'AE' && code !== 'no ACK') this.unclean.push(`MLLP: ${code}`);
    return false;
  }

  /** Sends one request; anything but 200 or a clean 503 OperationOutcome is recorded as unclean. */
  private async send(url: string, init: RequestInit): Promise<{ status: number; body: unknown } | undefined> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
      text = await res.text();
    } catch (err) {
      this.unclean.push(`no answer: ${(err as Error).name}`);
      return undefined;
    }
    if (res.status !== 200) {
      this.refusals[res.status] = (this.refusals[res.status] ?? 0) + 1;
      const outcome = safeJson(text) as { resourceType?: string; issue?: { code?: string }[] } | undefined;
      if (res.status !== 503 || outcome?.resourceType !== 'OperationOutcome')
        this.unclean.push(`${res.status}: ${text.slice(0, 200)}`);
    }
    return { status: res.status, body: safeJson(text) };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends one framed message and waits for the ACK frame, the connection closing, or 30 s. */
function mllpExchange(port: number, message: string): Promise<string | 'closed' | 'timeout'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const done = (v: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('timeout'), 30_000);
    socket.on('connect', () =>
      socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(message), Buffer.from([0x1c, 0x0d])])),
    );
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf(0x1c);
      if (end > 0) done(got.subarray(1, end).toString('utf8'));
    });
    socket.on('error', () => done('closed'));
    socket.on('close', () => done('closed'));
  });
}
