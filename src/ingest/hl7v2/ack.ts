/**
 * Acknowledgements (original mode): AA when the message is stored, AE with an ERR segment per
 * problem naming the segment and field for content errors, AR for a message type Sharedcare does
 * not take or a sender it does not know. Built with @medplum/core's `buildAck`, which swaps the
 * sender and receiver and copies MSH-10 into MSA-2.
 */
import { Hl7Message, Hl7Segment } from '@medplum/core';
import type { Problem } from '../../errors/index.ts';

export type AckCode = 'AA' | 'AE' | 'AR';

/** "PID[2]-7" → ERR-2 (error location: segment^sequence^field). */
function location(expression: string | undefined): string {
  const m = /^([A-Z][A-Z0-9]{2})(?:\[(\d+)\])?(?:-(\d+))?/.exec(expression ?? '');
  if (!m) return '';
  return [m[1], m[2] ?? '1', m[3] ?? ''].join('^');
}

/** Escapes the HL7 delimiters in free text placed into an ACK. */
function escapeText(text: string): string {
  return text
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/&/g, '\\T\\')
    .replace(/~/g, '\\R\\')
    .replace(/[\r\n]+/g, ' ');
}

/** HL7 table 0357: what kind of error, for the sender's interface engine. */
function errorCode(code: AckCode, message: string): string {
  if (code === 'AR')
    return /not supported/.test(message)
      ? '200^Unsupported message type^HL70357'
      : '207^Application internal error^HL70357';
  if (/is empty|needs|has no/.test(message)) return '101^Required field missing^HL70357';
  return '102^Data type error^HL70357';
}

/** The ACK for a message (or for text that could not be parsed: a minimal MSH is made up). */
export function buildAck(original: Hl7Message | undefined, code: AckCode, problems: Problem[] = []): string {
  const msg = original ?? Hl7Message.parse('MSH|^~\\&|||||||ACK||P|2.5');
  const errs = problems.slice(0, 20).map((p) =>
    Hl7Segment.parse(
      // ERR-2 location, ERR-3 HL7 error code (table 0357), ERR-4 severity, ERR-8 user message
      `ERR||${location(p.expression)}|${errorCode(code, p.message)}|E||||${escapeText(p.message)}`,
      msg.context,
    ),
  );
  const ack = msg.buildAck({ ackCode: code, ...(errs[0] ? { errSegment: errs[0] } : {}) });
  for (const e of errs.slice(1)) ack.segments.push(e);
  const msa = ack.getSegment('MSA');
  if (msa && problems[0]) msa.setField(3, escapeText(problems[0].message));
  return ack.toString();
}
