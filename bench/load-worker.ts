/**
 * Runs one autocannon load in a worker thread, so that the load generator does not share the
 * server's event loop, and sends back every 2xx response time (ms, sub-millisecond precision;
 * autocannon's own histogram rounds to whole milliseconds).
 */
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';

export interface LoadRequest {
  url: string;
  token: string;
  connections: number;
  duration: number;
}

export interface LoadResult {
  latencies: number[];
  non2xx: number;
  errors: number;
  bytes: number;
  seconds: number;
}

const req = workerData as LoadRequest;
const latencies: number[] = [];
let non2xx = 0;
let bytes = 0;
const instance = autocannon(
  {
    url: req.url,
    connections: req.connections,
    duration: req.duration,
    timeout: 30,
    headers: { authorization: `Bearer ${req.token}`, accept: 'application/fhir+json' },
  },
  (err, result) => {
    if (err) throw err;
    const out: LoadResult = {
      latencies,
      non2xx,
      errors: result.errors + result.timeouts,
      bytes,
      seconds: result.duration,
    };
    parentPort?.postMessage(out);
  },
);
instance.on('response', (_client, statusCode, resBytes, responseTime) => {
  if (statusCode >= 200 && statusCode < 300) {
    latencies.push(responseTime);
    bytes += resBytes;
  } else non2xx++;
});
