/**
 * Group commit for HL7 v2: messages are queued on a few lanes by key (one source's one patient
 * always on the same lane, so their messages are applied in the order they came), and a lane that
 * is free takes everything queued on it as one batch. A batch costs two commits (landing, then the
 * data with the ACKs) however many messages it holds, so the disk's flushes per second stop being
 * the ceiling; under light load a batch is one message and nothing waits.
 */
import { createHash } from 'node:crypto';

export class Lanes<Job> {
  private readonly queues: Job[][];
  private readonly busy: boolean[];

  constructor(
    count: number,
    private readonly maxBatch: number,
    /** runs one batch; settles each job itself and never rejects */
    private readonly run: (batch: Job[]) => Promise<void>,
  ) {
    this.queues = Array.from({ length: Math.max(1, count) }, () => []);
    this.busy = this.queues.map(() => false);
  }

  push(key: string, job: Job): void {
    const lane = createHash('sha1').update(key).digest().readUInt32BE(0) % this.queues.length;
    this.queues[lane]!.push(job);
    if (!this.busy[lane]) void this.drain(lane);
  }

  private async drain(lane: number): Promise<void> {
    this.busy[lane] = true;
    const queue = this.queues[lane]!;
    try {
      while (queue.length > 0) await this.run(queue.splice(0, this.maxBatch));
    } finally {
      this.busy[lane] = false;
    }
  }
}
