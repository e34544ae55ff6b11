/** A logger that writes into memory, so that a test can read every line the server logged. */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../src/logging.ts';

export interface CapturedLog {
  log: Logger;
  /** everything logged so far, one JSON line per entry */
  text(): string;
  lines(): Record<string, unknown>[];
}

export function captureLog(level = 'info'): CapturedLog {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = createLogger(level, stream);
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
