/**
 * `sharedcare load` for HL7 v2 files (.hl7, .er7): a file of one message, several, or a batch
 * (FHS/BHS … BTS/FTS). Messages are sent one at a time, in file order (one source's messages are
 * applied in order), each all or nothing; the summary counts the acknowledgements.
 */
import { readFileSync } from 'node:fs';
import { decodeHl7, splitBatch } from '../ingest/index.ts';
import type { Backend } from './backend.ts';
import type { LoadSummary } from './load.ts';

export const HL7_FILE = /\.(hl7|er7)$/i;

/** The problems an AE/AR names: its ERR segments' location (ERR-2) and message (ERR-8). */
function problemsOf(ack: string): string[] {
  return ack
    .split(/\r|\n/)
    .filter((s) => s.startsWith('ERR'))
    .map((s) => {
      const f = s.split('|');
      const where = (f[2] ?? '').split('^').filter(Boolean);
      const at = where.length ? `${where[0]}${where[2] ? `-${where[2]}` : ''}: ` : '';
      return `${at}${(f[8] ?? '').replace(/\\F\\/g, '|').replace(/\\S\\/g, '^')}`;
    });
}

export async function loadHl7File(
  backend: Backend,
  sourceId: string,
  file: string,
  summary: LoadSummary,
  onMessage: () => void,
): Promise<void> {
  // FHS/MSH-18 name the character set; bytes that are not UTF-8 are read as ISO-8859-1
  const batch = splitBatch(decodeHl7(readFileSync(file)));
  if (batch.problems.length > 0)
    summary.failures.push({ file, part: 'batch trailer', problems: batch.problems.map((p) => p.message) });
  for (const [i, message] of batch.messages.entries()) {
    summary.requests++;
    const { code, ack } = await backend.ingestHl7(sourceId, message);
    const key = { AA: 'accepted (AA)', AE: 'refused, content error (AE)', AR: 'refused (AR)' }[code] ?? code;
    summary.counts[key] = (summary.counts[key] ?? 0) + 1;
    summary.resources++;
    if (code !== 'AA') {
      summary.failedRequests++;
      summary.failures.push({ file, part: `message ${i + 1}`, problems: problemsOf(ack).slice(0, 10) });
    }
    onMessage();
  }
}
