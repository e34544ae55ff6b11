/**
 * COPY over the pg driver without pg-copy-streams: pg accepts any "Submittable" (an object with
 * submit(connection)) and forwards the CopyIn/CopyData protocol messages to it, and its Connection
 * can send CopyData/CopyDone. These two small submittables use exactly that.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import type pg from 'pg';

/** The parts of pg's Connection that @types/pg does not declare. */
interface CopyConnection {
  stream: Duplex;
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

abstract class CopyBase {
  protected rowCount = 0;
  private settled = false;
  constructor(
    private readonly sql: string,
    private readonly resolve: (rows: number) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  submit(connection: pg.Connection): void {
    (connection as unknown as CopyConnection).query(this.sql);
  }
  handleCommandComplete(msg: { text?: string }): void {
    const m = /^COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rowCount = Number(m[1]);
  }
  handleReadyForQuery(): void {
    this.settle(() => this.resolve(this.rowCount));
  }
  handleError(err: Error): void {
    this.settle(() => this.reject(err));
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyInResponse(connection: pg.Connection): void {
    (connection as unknown as CopyConnection).sendCopyFail('unexpected COPY FROM');
  }
  handleCopyData(_msg: { chunk: Buffer }): void {}

  private settle(fn: () => void): void {
    if (this.settled) return;
    this.settled = true;
    fn();
  }
}

class CopyIn extends CopyBase {
  constructor(
    sql: string,
    private readonly source: Iterable<Buffer> | AsyncIterable<Buffer>,
    resolve: (rows: number) => void,
    reject: (err: Error) => void,
  ) {
    super(sql, resolve, reject);
  }
  override handleCopyInResponse(connection: pg.Connection): void {
    void this.pump(connection as unknown as CopyConnection);
  }
  private async pump(c: CopyConnection): Promise<void> {
    try {
      for await (const chunk of this.source) {
        c.sendCopyFromChunk(chunk);
        if (c.stream.writableNeedDrain) await once(c.stream, 'drain');
      }
      c.endCopyFrom();
    } catch (err) {
      c.sendCopyFail(err instanceof Error ? err.message : String(err));
    }
  }
}

class CopyOut extends CopyBase {
  readonly chunks: Buffer[] = [];
  override handleCopyData(msg: { chunk: Buffer }): void {
    // the parser's buffer is reused: keep a copy
    this.chunks.push(Buffer.from(msg.chunk));
  }
}

/** `COPY … FROM STDIN` fed from `source`; resolves to the rows copied. */
export function copyFrom(
  client: pg.ClientBase,
  sql: string,
  source: Iterable<Buffer> | AsyncIterable<Buffer>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    void client.query(new CopyIn(sql, source, resolve, reject));
  });
}

/** `COPY … TO STDOUT` into memory; resolves to the raw data (one CopyData message per row). */
export function copyTo(client: pg.ClientBase, sql: string): Promise<{ rows: number; data: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const q: CopyOut = new CopyOut(sql, (rows) => resolve({ rows, data: q.chunks }), reject);
    void client.query(q);
  });
}
