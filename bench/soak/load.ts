/**
 * Open-loop load: each stream fires its requests at fixed times (a rate per second, or for intake a
 * rate of resources per second, so a bigger request waits longer before the next), whether or not
 * earlier requests have answered. Latency is measured from the time a request was due, not from
 * when it was sent, so a stalled server cannot hide its stall by slowing the load down (the
 * "coordinated omission" of closed-loop tools). Written by hand because the load tools on npm
 * (autocannon) are closed-loop per connection and drive one URL, not a weighted mix.
 */

/** What one request came to: fine, or an error of a named kind ("http 503", "network ECONNRESET", "ack AE"). */
export type Outcome = { ok: true } | { ok: false; kind: string };

export interface Job {
  /** resources (intake) or 1; the stream spaces jobs by weight / rate */
  weight: number;
  run(signal: AbortSignal): Promise<Outcome>;
}

export interface StreamSpec {
  op: string;
  /** jobs (or, with weights, resources) per second */
  rate: number;
  /** the next job; undefined when the stream has nothing more to send */
  next(): Job | undefined;
}

export interface Window {
  latencies: Map<string, number[]>;
  /** how late the harness sent requests (its own event loop lag), ms */
  lag: number[];
  errors: Map<string, number>;
  served: Map<string, number>;
}

const newWindow = (): Window => ({ latencies: new Map(), lag: [], errors: new Map(), served: new Map() });

/** Collects outcomes; the sampler takes the current window every 10 s. */
export class Recorder {
  private current = newWindow();
  readonly totalServed = new Map<string, number>();
  readonly totalErrors = new Map<string, number>();
  /** every latency of the run, by operation (the verdict's p99 is over the whole run) */
  readonly allLatencies = new Map<string, number[]>();

  /**
   * `trace`, when given, is told of every request as it ends (the wall clock in ms, operation,
   * latency, outcome): for lining up slow requests with the server's collections and
   * the database's checkpoints (SOAK_TRACE in run.ts).
   */
  constructor(private readonly trace?: (line: string) => void) {}

  record(op: string, ms: number, lag: number, outcome: Outcome): void {
    this.trace?.(`${Date.now()} ${op} ${ms.toFixed(1)} ${outcome.ok ? 'ok' : outcome.kind}\n`);
    const w = this.current;
    w.lag.push(lag);
    if (outcome.ok) {
      let l = w.latencies.get(op);
      if (!l) w.latencies.set(op, (l = []));
      l.push(ms);
      let all = this.allLatencies.get(op);
      if (!all) this.allLatencies.set(op, (all = []));
      all.push(ms);
      bump(w.served, op);
      bump(this.totalServed, op);
    } else {
      const key = `${op}: ${outcome.kind}`;
      bump(w.errors, key);
      bump(this.totalErrors, key);
    }
  }

  take(): Window {
    const w = this.current;
    this.current = newWindow();
    return w;
  }
}

function bump(m: Map<string, number>, k: string, n = 1): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

/** No request may run past this: a hung request is an error of its own kind. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Requests in flight per stream past which the harness stops sending and counts an overload. */
const MAX_IN_FLIGHT = 3000;

export interface RunningLoad {
  /** stop scheduling, then wait for every request in flight */
  stop(): Promise<void>;
}

/** Starts every stream; each runs until stop() or until it has nothing more to send. */
export function startLoad(streams: StreamSpec[], recorder: Recorder): RunningLoad {
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();

  const launch = (s: StreamSpec, job: Job, due: number, perStream: { n: number }) => {
    if (perStream.n >= MAX_IN_FLIGHT) {
      recorder.record(s.op, 0, performance.now() - due, {
        ok: false,
        kind: 'harness overload (too many in flight)',
      });
      return;
    }
    const lag = performance.now() - due;
    perStream.n++;
    const p = job
      .run(AbortSignal.timeout(REQUEST_TIMEOUT_MS))
      .catch((err: unknown) => failure(err))
      .then((outcome) => recorder.record(s.op, performance.now() - due, lag, outcome))
      .finally(() => {
        perStream.n--;
        inFlight.delete(p);
      });
    inFlight.add(p);
  };

  for (const s of streams) {
    if (s.rate <= 0) continue;
    const perStream = { n: 0 };
    let due = performance.now() + Math.random() * (1000 / s.rate);
    let pending = s.next();
    const tick = () => {
      timers.delete(timer);
      if (stopped) return;
      const now = performance.now();
      // every job that has come due fires now, however late (open loop)
      while (pending && due <= now) {
        launch(s, pending, due, perStream);
        due += (pending.weight * 1000) / s.rate;
        pending = s.next();
      }
      if (!pending) return;
      timer = setTimeout(tick, Math.max(0, due - performance.now()));
      timers.add(timer);
    };
    let timer = setTimeout(tick, Math.max(0, due - performance.now()));
    timers.add(timer);
  }

  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/** A request that threw: a timeout, or a network error by its code. */
export function failure(err: unknown): Outcome {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { ok: false, kind: 'timeout' };
  const code = e.cause?.code ?? e.code;
  return { ok: false, kind: `network ${code ?? e.name ?? 'error'}` };
}

/** An HTTP answer: fine when its status is the expected one, its body read to the end. */
export async function httpOutcome(res: Response, expected = 200): Promise<Outcome> {
  await res.arrayBuffer();
  return res.status === expected ? { ok: true } : { ok: false, kind: `http ${res.status}` };
}
