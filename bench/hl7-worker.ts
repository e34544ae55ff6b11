/**
 * The HL7 v2 load generator, in a worker thread so that it does not share the server's event loop:
 * `connections` MLLP connections (plain TCP, framing 0x0B … 0x1C 0x0D), each sending a message and
 * waiting for its ACK before the next (as interface engines do). Closed loop (as fast as ACKs
 * come) or open loop at a fixed total rate. Reports every ACK's latency.
 */
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { drawKind, feedMessage, feedPerson, type FeedPerson } from '../src/generate/hl7-feed.ts';
import { Rng } from '../src/generate/random.ts';

export interface Hl7LoadRequest {
  port: number;
  connections: number;
  seconds: number;
  /** messages per second in total; 0 = as fast as the ACKs come */
  rate: number;
  persons: number;
  seed: number;
  /** when above 0: each connection sends its share of this many and stops (the seconds do not count) */
  messages?: number;
  /** first message number (MSH-10 must be new for each run) */
  firstMessage: number;
  application: string;
}

export interface Hl7LoadResult {
  latencies: number[];
  acks: Record<string, number>;
  seconds: number;
  sent: number;
  /** ACKs received in each second of the run */
  perSecond: number[];
}

const req = workerData as Hl7LoadRequest;
const VT = 0x0b;
const FS = 0x1c;

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
    s.setNoDelay(true);
  });
}

/** One connection: sends a framed message and resolves with the ACK's MSA-1. */
function exchanger(socket: net.Socket): (text: string) => Promise<string> {
  let buf = Buffer.alloc(0);
  let waiting: { resolve: (code: string) => void; reject: (err: Error) => void } | undefined;
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf(FS);
    if (end < 0 || !waiting) return;
    const ack = buf.subarray(buf.indexOf(VT) + 1, end).toString('utf8');
    buf = buf.subarray(end + 2);
    const w = waiting;
    waiting = undefined;
    w.resolve(/\rMSA\|([A-Z]{2})/.exec(ack)?.[1] ?? '??');
  });
  socket.on('error', (err) => waiting?.reject(err));
  socket.on('close', () => waiting?.reject(new Error('connection closed without an ACK')));
  return (text) =>
    new Promise((resolve, reject) => {
      waiting = { resolve, reject };
      socket.write(Buffer.concat([Buffer.from([VT]), Buffer.from(text, 'utf8'), Buffer.from([FS, 0x0d])]));
    });
}

const people: FeedPerson[] = Array.from({ length: req.persons }, (_, i) => feedPerson(i, req.seed));
const latencies: number[] = [];
const acks: Record<string, number> = {};
let next = req.firstMessage;
let sent = 0;
const perSecond: number[] = [];
const started = performance.now();
const deadline = started + req.seconds * 1000;
const interval = req.rate > 0 ? (1000 * req.connections) / req.rate : 0;

async function run(c: number): Promise<void> {
  const socket = await connect(req.port);
  const exchange = exchanger(socket);
  const rng = new Rng(req.seed, c, req.firstMessage);
  let due = performance.now() + (interval * c) / req.connections;
  const quota = req.messages ? Math.ceil(req.messages / req.connections) : Infinity;
  for (let mine = 0; mine < quota && (req.messages || performance.now() < deadline); mine++) {
    if (interval > 0) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      due += interval;
    }
    const n = next++;
    const person = people[rng.int(0, people.length - 1)]!;
    const text = feedMessage(drawKind(rng), person, n, new Date(Date.UTC(2026, 0, 1) + n * 1000), rng, {
      application: req.application,
      facility: 'RX1',
    });
    const t0 = performance.now();
    const code = await exchange(text);
    const t1 = performance.now();
    latencies.push(t1 - t0);
    const second = Math.floor((t1 - started) / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + 1;
    acks[code] = (acks[code] ?? 0) + 1;
    sent++;
  }
  socket.end();
}

await Promise.all(Array.from({ length: req.connections }, (_, c) => run(c)));
const result: Hl7LoadResult = {
  latencies,
  acks,
  seconds: (performance.now() - started) / 1000,
  sent,
  perSecond: Array.from(perSecond, (n) => n ?? 0),
};
parentPort!.postMessage(result);
