/**
 * HL7 v2 messages at the edge: bytes → text → typed segments. Parsing is @medplum/core's
 * `Hl7Message` (the separators, components, repetitions); this file adds what real feeds need and
 * the library leaves to the caller: the character set (MSH-18: UTF-8 or ISO-8859-1), a leading
 * byte-order mark, segments separated by CR, LF or CRLF, escape sequences (\F\ \S\ \T\ \R\ \E\
 * \.br\ \Xhh\), and dates checked for real (a month 13 is an error naming its field, not a date).
 */
import { Hl7Message, type Hl7Field, type Hl7Segment } from '@medplum/core';
import { SharedcareError, type Problem } from '../../errors/index.ts';

/** A parsed message and the few header facts every step needs. */
export interface ParsedMessage {
  message: Hl7Message;
  /** MSH-9.1 and MSH-9.2, e.g. "ADT" and "A01" */
  type: string;
  event: string;
  /** MSH-10 */
  controlId: string;
  /** MSH-12, e.g. "2.4" */
  version: string;
  sendingApplication: string;
  sendingFacility: string;
}

const LATIN1 = /^(8859\/1|ISO[-_ ]?8859[-_ ]?1|ISO IR100|latin1)$/i;

/**
 * The message text from the bytes a sender sent: ISO-8859-1 where MSH-18 says so, or where no
 * character set is named and the bytes are not UTF-8 (older UK feeds); UTF-8 otherwise.
 */
export function decodeMessage(bytes: Buffer): string {
  const utf8 = bytes.toString('utf8');
  const charset = charsetOf(utf8);
  if (LATIN1.test(charset)) return bytes.toString('latin1');
  if (!charset && utf8.includes('\uFFFD')) return bytes.toString('latin1');
  return utf8;
}

function charsetOf(text: string): string {
  const msh =
    text
      .replace(/^\uFEFF/, '')
      .split(/\r\n|\r|\n/)
      .find((s) => s.startsWith('MSH')) ?? '';
  const sep = msh.charAt(3);
  return sep ? (msh.split(sep)[17] ?? '').split(msh.charAt(4) || '^')[0]!.trim() : '';
}

/** One message's text, normalised: no BOM, segments separated by CR, no empty segments. */
export function normaliseMessage(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .filter((s) => s.trim().length > 0)
    .join('\r');
}

/** Parses one message. A text that is not an HL7 v2 message is an `invalid-request`. */
export function parseMessage(text: string): ParsedMessage {
  const normal = normaliseMessage(text);
  if (!/^MSH[^A-Za-z0-9\r]/.test(normal))
    throw new SharedcareError('invalid-request', 'not an HL7 v2 message: it must start with an MSH segment', [
      { message: 'the message must start with an MSH segment', expression: 'MSH' },
    ]);
  let message: Hl7Message;
  try {
    message = Hl7Message.parse(normal);
  } catch {
    throw new SharedcareError('invalid-request', 'the HL7 v2 message could not be parsed', [
      { message: 'the message could not be parsed', expression: 'MSH' },
    ]);
  }
  const msh = message.header;
  const parsed: ParsedMessage = {
    message,
    type: text9(msh, 1),
    event: text9(msh, 2),
    controlId: msh.getField(10).getComponent(1).trim(),
    version: msh.getField(12).getComponent(1).trim(),
    sendingApplication: msh.getField(3).getComponent(1).trim(),
    sendingFacility: msh.getField(4).getComponent(1).trim(),
  };
  const problems: Problem[] = [];
  if (!parsed.type) problems.push({ message: 'MSH-9 (message type) is empty', expression: 'MSH-9' });
  if (!parsed.controlId)
    problems.push({ message: 'MSH-10 (message control id) is empty', expression: 'MSH-10' });
  if (problems.length > 0) throw new SharedcareError('invalid-request', problems[0]!.message, problems);
  return parsed;
}

function text9(msh: Hl7Segment, component: number): string {
  return msh.getField(9).getComponent(component).trim().toUpperCase();
}

/**
 * HL7 v2 escape sequences decoded (\F\ field, \S\ component, \T\ subcomponent, \R\ repetition,
 * \E\ escape, \.br\ and \X0D\ line breaks, \Xhh..\ bytes but NUL); formatting commands are dropped.
 */
export function unescapeHl7(value: string, escape = '\\'): string {
  if (!value.includes(escape)) return value;
  const e = escape.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return value.replace(new RegExp(`${e}([^${e}]*)${e}`, 'g'), (_, seq: string) => {
    switch (seq) {
      case 'F':
        return '|';
      case 'S':
        return '^';
      case 'T':
        return '&';
      case 'R':
        return '~';
      case 'E':
        return escape;
      case '.br':
        return '\n';
    }
    // a NUL among the bytes is dropped: it means nothing in text, and PostgreSQL's text cannot hold
    // it (the message failed to store, unanswered, and held up its patient's later messages)
    if (/^X([0-9A-Fa-f]{2})+$/.test(seq))
      return Buffer.from(seq.slice(1), 'hex').toString('latin1').replaceAll('\u0000', '');
    return '';
  });
}

/** Reading a segment: 1-based fields and components, unescaped, empty strings for absent. */
export class Segment {
  constructor(
    readonly seg: Hl7Segment,
    /** where it is, for errors: "PID", "OBX[3]" */
    readonly at: string,
  ) {}

  get name(): string {
    return this.seg.name;
  }

  /** Component c (1-based) of field f, first repetition. */
  get(f: number, c = 1, rep = 0): string {
    const field = this.field(f);
    return field ? unescapeHl7(field.getComponent(c, undefined, rep) ?? '').trim() : '';
  }

  /** As get, with HL7's explicit null (`""`, sent routinely by PAS feeds) read as nothing. */
  value(f: number, c = 1, rep = 0): string {
    const v = this.get(f, c, rep);
    return v === '""' ? '' : v;
  }

  /** How many repetitions field f has (0 when empty). */
  repetitions(f: number): number {
    const field = this.field(f);
    if (!field) return 0;
    const n = field.components.length;
    return n === 1 && field.toString() === '' ? 0 : n;
  }

  /** Component c of field f exactly as sent (not unescaped, not trimmed): for embedded data. */
  raw(f: number, c = 1): string {
    return this.field(f)?.getComponent(c) ?? '';
  }

  /** Field f, or undefined past the last field sent (MSH counts its separator as field 1). */
  private field(f: number): Hl7Field | undefined {
    return (this.seg.getField(f) as Hl7Field | undefined) ?? undefined;
  }
}

/** Every segment of the message, each with its location for error messages. */
export function segmentsOf(parsed: ParsedMessage): Segment[] {
  const seen = new Map<string, number>();
  return parsed.message.segments.map((s) => {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    return new Segment(s, n === 1 ? s.name : `${s.name}[${n}]`);
  });
}
