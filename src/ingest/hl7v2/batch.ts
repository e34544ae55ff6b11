/**
 * HL7 v2 batch files: FHS/BHS … MSH … BTS/FTS, or simply several messages one after another. Each
 * message is split out and processed on its own (all or nothing per message, as on MLLP), and the
 * trailer counts are checked so that a truncated file is noticed.
 */
import type { Problem } from '../../errors/index.ts';
import { normaliseMessage } from './message.ts';

export interface Batch {
  messages: string[];
  /** a BTS/FTS count that disagrees with what the file holds (a truncated or padded file) */
  problems: Problem[];
}

export function splitBatch(text: string): Batch {
  const segments = normaliseMessage(text).split('\r');
  const messages: string[][] = [];
  const problems: Problem[] = [];
  let batchStart = 0;
  for (const seg of segments) {
    const name = seg.slice(0, 3);
    if (name === 'FHS' || name === 'FTS') continue;
    if (name === 'BHS') {
      batchStart = messages.length;
      continue;
    }
    if (name === 'BTS') {
      const declared = Number(seg.split(seg.charAt(3) || '|')[1]);
      const held = messages.length - batchStart;
      if (Number.isFinite(declared) && declared > 0 && declared !== held)
        problems.push({
          message: `BTS-1 says ${declared} messages; the batch holds ${held}`,
          expression: 'BTS-1',
        });
      continue;
    }
    if (name === 'MSH') messages.push([seg]);
    else if (messages.length > 0) messages[messages.length - 1]!.push(seg);
  }
  return { messages: messages.map((m) => m.join('\r')), problems };
}
