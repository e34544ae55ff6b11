/**
 * The MLLP listener: TCP (or TLS), messages framed 0x0B … 0x1C 0x0D, many messages per connection
 * and many connections, one ACK per message sent only after the message is committed.
 *
 * The framing is written here rather than taken from @medplum/hl7's `Hl7Connection` because that
 * class decodes every frame with one fixed character set and parses it before handing it over:
 * Sharedcare must land the bytes exactly as sent, honour each message's own MSH-18, and answer a
 * malformed message with an AR instead of an error event and silence. The framing itself is a
 * dozen lines. (@medplum/hl7's client is used by the tests, as an independent peer.)
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { BoundSender, Hl7Intake } from './intake.ts';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;
/** a frame larger than this is not an HL7 message: the connection is closed */
const MAX_FRAME = 32 * 1024 * 1024;

export interface MllpOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string; ca?: string };
  /** connections that belong to a registered source, by TLS client-certificate CN or peer address */
  senders?: MllpSenders;
}

export interface MllpSenders {
  /** client-certificate common name → source id (TLS with a client CA only) */
  certificates?: Record<string, string>;
  /** peer IP address → source id */
  addresses?: Record<string, string>;
}

/** Each HL7 v2 source's MLLP identities, from the configuration (sources[].mllp). */
export function mllpSenders(
  sources: { id: string; mllp?: { certificates?: string[]; addresses?: string[] } | undefined }[],
): MllpSenders {
  const senders: Required<MllpSenders> = { certificates: {}, addresses: {} };
  for (const s of sources) {
    for (const cn of s.mllp?.certificates ?? []) senders.certificates[cn] = s.id;
    for (const a of s.mllp?.addresses ?? []) senders.addresses[normaliseAddress(a)] = s.id;
  }
  return senders;
}

function normaliseAddress(address: string): string {
  return address.replace(/^::ffff:/, '');
}

/** The source a connection belongs to: its certificate's CN first, then its peer address. */
function boundSender(socket: net.Socket, senders: MllpSenders | undefined): BoundSender | undefined {
  if (!senders) return undefined;
  const cert = socket instanceof tls.TLSSocket ? socket.getPeerCertificate() : undefined;
  const cns = [cert?.subject?.CN ?? []].flat();
  for (const cn of cns) {
    const id = senders.certificates?.[cn];
    if (id) return { sourceId: id, by: `TLS certificate CN ${cn}` };
  }
  const address = normaliseAddress(socket.remoteAddress ?? '');
  const id = senders.addresses?.[address];
  return id ? { sourceId: id, by: `address ${address}` } : undefined;
}

export interface MllpListener {
  /** the port actually bound (useful with port 0) */
  port: number;
  close(): Promise<void>;
}

/** Splits a byte stream into MLLP frames; bytes outside a frame are discarded. */
export class MllpFramer {
  private buffer: Buffer = Buffer.alloc(0);

  /** Frames completed by this chunk; throws when a frame grows past the limit. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const frames: Buffer[] = [];
    for (;;) {
      const start = this.buffer.indexOf(VT);
      if (start < 0) {
        this.buffer = Buffer.alloc(0);
        break;
      }
      let end = this.buffer.indexOf(FS, start + 1);
      while (end >= 0 && end + 1 < this.buffer.length && this.buffer[end + 1] !== CR)
        end = this.buffer.indexOf(FS, end + 1);
      if (end < 0 || end + 1 >= this.buffer.length) {
        this.buffer = this.buffer.subarray(start);
        if (this.buffer.length > MAX_FRAME) throw new Error('MLLP frame too large');
        break;
      }
      frames.push(this.buffer.subarray(start + 1, end));
      this.buffer = this.buffer.subarray(end + 2);
    }
    return frames;
  }
}

export function frame(text: string): Buffer {
  return Buffer.concat([Buffer.from([VT]), Buffer.from(text, 'utf8'), Buffer.from([FS, CR])]);
}

export async function startMllpListener(
  intake: Hl7Intake,
  options: MllpOptions,
  log: Logger,
): Promise<MllpListener> {
  const sockets = new Set<net.Socket>();
  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new MllpFramer();
    const sender = boundSender(socket, options.senders);
    // messages on one connection are answered in the order they came
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch {
        log.warn({ remote: socket.remoteAddress }, 'MLLP frame too large: connection closed');
        socket.destroy();
        return;
      }
      for (const bytes of frames) {
        chain = chain.then(async () => {
          if (socket.destroyed) return;
          try {
            const outcome = await intake.receive(bytes, undefined, sender);
            if (!socket.destroyed) socket.write(frame(outcome.ack));
          } catch (err) {
            // no ACK for what was not committed: the sender will resend on a new connection
            log.error(
              { code: (err as { code?: string }).code ?? 'unknown' },
              'HL7 v2 message not processed: connection closed without an ACK',
            );
            socket.destroy();
          }
        });
      }
    });
  };
  const server = options.tls
    ? tls.createServer(
        {
          cert: readFileSync(options.tls.cert),
          key: readFileSync(options.tls.key),
          ...(options.tls.ca
            ? { ca: readFileSync(options.tls.ca), requestCert: true, rejectUnauthorized: true }
            : {}),
        },
        onConnection,
      )
    : net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
