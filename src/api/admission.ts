/**
 * Admission control for the FHIR reads: at most `limit` requests in progress per process, the
 * rest waiting their turn in arrival order, for at most `maxWaitMs`; past that, or when `maxQueue`
 * are already waiting, a 503 with Retry-After at once.
 *
 * Why (BENCHMARKS.md, "Soak", 2026-12-06): without it every request that arrived was started at
 * once. At 100 record opens a second a burst left hundreds in progress together, each holding its
 * rows and answer in memory while it waited for a pooled connection for its next statement, so
 * each cost more than a request served straight through (more garbage, more switching) and the
 * server fell behind faster than it caught up: minutes at p50 of 5-9 s and 503s from the pool, at
 * a rate it had served for three minutes. Waiting here, before the token check, costs a request
 * nothing but its place in the queue; the ones admitted run as they would alone.
 *
 * Written by hand: p-limit and the like queue without bound and without a deadline per waiter, and
 * @fastify/under-pressure refuses by event-loop delay or memory once the harm is done rather than
 * queueing in order.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { operationOutcome } from '../fhir/index.ts';

export interface AdmissionOptions {
  /** requests in progress at once (per process) */
  limit: number;
  /** requests waiting at most; one more is refused at once */
  maxQueue: number;
  /** how long a request may wait for its turn before it is refused */
  maxWaitMs: number;
}

/** Defaults: twice the database pool of a process, so that the pool is kept busy and not flooded. */
export const READ_ADMISSION: AdmissionOptions = { limit: 20, maxQueue: 2000, maxWaitMs: 10_000 };

const ADMISSION_METRICS = [
  'sharedcare_fhir_reads_in_progress',
  'sharedcare_fhir_reads_waiting',
  'sharedcare_fhir_reads_refused_total',
];

type Waiter = { admit: () => void; done: boolean };

/** A counting semaphore with a first-come queue, a bound on the queue and a deadline per waiter. */
export class Admission {
  private active = 0;
  private queue: Waiter[] = [];
  private head = 0;
  /** waiters not yet admitted, refused or gone (the queue may still hold those that left) */
  private live = 0;

  constructor(private readonly o: AdmissionOptions) {}

  get inProgress(): number {
    return this.active;
  }

  get waiting(): number {
    return this.live;
  }

  /**
   * Resolves true once the caller may go on (it must then call release() exactly once), or false
   * if it was refused: the queue was full, it waited `maxWaitMs`, or `signal` aborted meanwhile.
   */
  enter(signal?: AbortSignal): Promise<boolean> | boolean {
    if (this.active < this.o.limit && this.waiting === 0) {
      this.active++;
      return true;
    }
    if (this.waiting >= this.o.maxQueue) return false;
    return new Promise<boolean>((resolve) => {
      const give = (admitted: boolean) => {
        if (w.done) return;
        w.done = true;
        this.live--;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(admitted);
      };
      const w: Waiter = { admit: () => give(true), done: false };
      const onAbort = () => give(false);
      const timer = setTimeout(() => give(false), this.o.maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(w);
      this.live++;
    });
  }

  /** A request admitted has finished: the next one waiting (if any) takes its place. */
  release(): void {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head++]!;
      if (w.done) continue;
      this.compact();
      w.admit();
      return;
    }
    this.compact();
    this.active = Math.max(0, this.active - 1);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The hook for a scope of routes: each request is admitted before anything else runs for it, and
 * its place is given up when its response has been sent or its connection has closed.
 */
export function registerAdmission(
  app: FastifyInstance,
  options: AdmissionOptions = READ_ADMISSION,
  registry?: Registry,
): Admission {
  const admission = new Admission(options);
  // for the operator: reads in progress and waiting now, and refused so far (this process's)
  const registers = registry ? [registry] : [];
  // an app built again on the same services (tests do) counts for its own queue
  for (const name of ADMISSION_METRICS) registry?.removeSingleMetric(name);
  new Gauge({
    name: 'sharedcare_fhir_reads_in_progress',
    help: 'FHIR reads being served now (at most the admission limit)',
    registers,
    collect() {
      this.set(admission.inProgress);
    },
  });
  new Gauge({
    name: 'sharedcare_fhir_reads_waiting',
    help: 'FHIR reads waiting their turn now',
    registers,
    collect() {
      this.set(admission.waiting);
    },
  });
  const refused = new Counter({
    name: 'sharedcare_fhir_reads_refused_total',
    help: 'FHIR reads answered 503 because too many were waiting or one waited too long',
    registers,
  });
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // a client that leaves while waiting gives its place up: its connection closes (the
    // response's own 'close' comes only with a response)
    const gone = new AbortController();
    const onClose = () => gone.abort();
    const socket = req.raw.socket as NodeJS.EventEmitter | null;
    socket?.once('close', onClose);
    const admitted = await admission.enter(gone.signal);
    socket?.off('close', onClose);
    if (!admitted) {
      refused.inc();
      // also to a client that has gone, so that nothing more runs for its request
      return reply
        .code(503)
        .header('retry-after', '1')
        .header('content-type', 'application/fhir+json; charset=utf-8')
        .send(operationOutcome('error', 'transient', 'The record service is busy. Try again in a moment.'));
    }
    // given up once: when the answer has gone ('finish') or the connection closed ('close')
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      admission.release();
    };
    if (reply.raw.writableFinished || reply.raw.destroyed) release();
    else reply.raw.once('finish', release).once('close', release);
    return undefined;
  });
  return admission;
}
