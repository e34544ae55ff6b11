/**
 * /metrics for the whole server when it runs as several processes (`sharedcare serve --workers N`).
 *
 * node:cluster hands each connection to one process, and each process counts only what it served.
 * A scrape used to get the counts of whichever process took it, so Prometheus saw counters jump
 * back and forth between processes (read as resets: rate() and increase() were wrong) and half of
 * the memory. Now a worker asked for /metrics asks the primary; the primary gathers every serving
 * process's registry as JSON and combines them with prom-client's own cluster aggregation
 * (AggregatorRegistry.aggregate: counters and histograms summed, gauges by each metric's declared
 * aggregator), and the worker answers with that. prom-client's clusterMetrics() does the same
 * round, but only from the primary, which does not serve HTTP here, and it asks every forked
 * process, including one still starting that cannot answer yet; the primary below asks only the
 * processes that serve.
 *
 * The answer says how many processes it covers: sharedcare_server_processes{state="serving"} and
 * {state="counted"}; a process that does not answer within GATHER_MS is left out, not waited for.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Gauge, type Registry } from 'prom-client';

/** one process's metrics, as its registry's getMetricsAsJSON() gives them */
type ProcessMetrics = object[];

/** worker → primary: the whole server's metrics, please; and the answer */
const ASK = 'sharedcare:metrics?';
const ANSWER = 'sharedcare:metrics';
/** primary → each serving worker: your own metrics, as JSON; and the answer */
const GATHER = 'sharedcare:metrics-json?';
const GATHERED = 'sharedcare:metrics-json';

/** How long the primary waits for each process's metrics. */
export const GATHER_MS = 2000;
/** How long a worker waits for the primary's answer before /metrics fails. */
const ASK_MS = GATHER_MS + 3000;

interface Message {
  type?: unknown;
  id?: unknown;
  text?: unknown;
  metrics?: unknown;
  error?: unknown;
}

const isMessage = (m: unknown, type: string): m is Message =>
  typeof m === 'object' && m !== null && (m as Message).type === type;

export class ClusterMetricsError extends Error {}

let asked = 0;
const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
let answersHeard = false;

/**
 * The server's metrics in Prometheus text: this process's own outside a cluster; in a cluster
 * worker, all serving processes' together, through the primary.
 */
export function serverMetrics(registry: Registry): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  if (!answersHeard) {
    answersHeard = true;
    process.on('message', (m: unknown) => {
      if (!isMessage(m, ANSWER) || typeof m.id !== 'number') return;
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (typeof m.text === 'string') w?.resolve(m.text);
      else w?.reject(new ClusterMetricsError(String(m.error ?? 'no metrics')));
    });
  }
  const id = ++asked;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new ClusterMetricsError('the server processes did not answer for their metrics in time'));
    }, ASK_MS);
    waiting.set(id, {
      resolve: (text) => (clearTimeout(timer), resolve(text)),
      reject: (err) => (clearTimeout(timer), reject(err)),
    });
    process.send!({ type: ASK, id });
  });
}

/** In a cluster worker: answer the primary's requests for this process's metrics. */
export function shareMetricsWithPrimary(registry: Registry): void {
  if (!cluster.isWorker) return;
  process.on('message', (m: unknown) => {
    if (!isMessage(m, GATHER)) return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: GATHERED, id: m.id, metrics }),
      (err: unknown) => process.send?.({ type: GATHERED, id: m.id, error: String(err) }),
    );
  });
}

/**
 * In the primary: answer a worker's request for the server's metrics, gathered from `serving()`
 * (the workers that listen) and combined.
 */
export function answerMetricsRequests(serving: () => Worker[]): void {
  let gathers = 0;
  cluster.on('message', (from, m: unknown) => {
    if (!isMessage(m, ASK)) return;
    gather(serving(), ++gathers).then(
      (text) => from.isConnected() && from.send({ type: ANSWER, id: m.id, text }),
      (err: unknown) => from.isConnected() && from.send({ type: ANSWER, id: m.id, error: String(err) }),
    );
  });
}

async function gather(workers: Worker[], id: number): Promise<string> {
  const one = (w: Worker) =>
    new Promise<ProcessMetrics | undefined>((resolve) => {
      const done = (value: ProcessMetrics | undefined) => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', onExit);
        resolve(value);
      };
      const onMessage = (m: unknown) => {
        if (!isMessage(m, GATHERED) || m.id !== id) return;
        done(Array.isArray(m.metrics) ? (m.metrics as ProcessMetrics) : undefined);
      };
      const onExit = () => done(undefined);
      const timer = setTimeout(() => done(undefined), GATHER_MS);
      w.on('message', onMessage);
      w.once('exit', onExit);
      w.send({ type: GATHER, id });
    });
  const answers = (await Promise.all(workers.map(one))).filter((a) => a !== undefined);
  const combined = AggregatorRegistry.aggregate(answers);
  const processes = new Gauge({
    name: 'sharedcare_server_processes',
    help: 'Server processes: serving, and counted in these metrics (a process that did not answer in time is not)',
    labelNames: ['state'],
    registers: [combined],
  });
  processes.set({ state: 'serving' }, workers.length);
  processes.set({ state: 'counted' }, answers.length);
  return combined.metrics();
}
