/**
 * Who is sending, on MLLP: a connection can belong to a registered source by its TLS client
 * certificate (common name) or by its peer address, besides what MSH-3/MSH-4 say. A message whose
 * MSH-3/MSH-4 name another source than its connection's is refused with AR and stores nothing.
 * The certificates are real, made by openssl in the test.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mllpFrame, startMllpListener, type MllpListener } from '../src/ingest/index.ts';
import { upsertSource } from '../src/region/index.ts';
import { startRegion, type TestRegion } from './kit.ts';

const SOURCE = 'northgate-hl7';
const OTHER = 'southgate-hl7';

function admission(control: string, sendingApp: string, facility: string, nhs: string): string {
  return [
    `MSH|^~\\&|${sendingApp}|${facility}|SHAREDCARE|REGION|20240315101500||ADT^A01^ADT_A01|${control}|P|2.4`,
    'EVN|A01|20240315101500',
    `PID|1||H-${control}^^^RX1^MR~${nhs}^^^NHS^NH||TESTER^Pat||19700101|M`,
    `PV1|1|I|WARD7^BED2^^RX1||||C123^Jones^Alan|||300|||||||||V-${control}`,
  ].join('\r');
}

/** Sends one framed message and resolves with what comes back (the ACK, or '' if the connection closes). */
function exchange(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    socket.on('data', (d) => {
      got += d.toString();
      if (got.includes('\x1c')) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
    socket.write(mllpFrame(text));
  });
}

const landed = async (r: TestRegion, control: string) =>
  (
    await r.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM hl7_message WHERE control_id = $1`, [
      control,
    ])
  ).rows[0]!.n;

describe('HL7 v2 senders known by their connection', () => {
  let r: TestRegion;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sc-mllp-senders-'));
    const ssl = (args: string) => execSync(`openssl ${args}`, { cwd: dir, stdio: 'pipe' });
    ssl('req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=region-ca');
    ssl('req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost');
    ssl('x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1');
    for (const cn of ['northgate-engine', 'unmapped-engine']) {
      ssl(`req -newkey rsa:2048 -nodes -keyout ${cn}.key -out ${cn}.csr -subj /CN=${cn}`);
      ssl(`x509 -req -in ${cn}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out ${cn}.crt -days 1`);
    }
    r = await startRegion('pglite');
    await upsertSource(r.db, { id: SOURCE, org: 'RX1', kind: 'hl7v2' });
    await upsertSource(r.db, { id: OTHER, org: 'LAB01', kind: 'hl7v2' });
  }, 180_000);
  afterAll(async () => {
    await r?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('by TLS client certificate', () => {
    let mllp: MllpListener;
    beforeAll(async () => {
      mllp = await startMllpListener(
        r.app.services.hl7,
        {
          host: '127.0.0.1',
          port: 0,
          tls: { cert: `${dir}/server.crt`, key: `${dir}/server.key`, ca: `${dir}/ca.crt` },
          senders: { certificates: { 'northgate-engine': SOURCE } },
        },
        r.app.services.log,
      );
    });
    afterAll(async () => mllp.close());

    const send = (cn: string, text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect(
          {
            host: '127.0.0.1',
            port: mllp.port,
            ca: readFileSync(`${dir}/ca.crt`),
            servername: 'localhost',
            cert: readFileSync(`${dir}/${cn}.crt`),
            key: readFileSync(`${dir}/${cn}.key`),
          },
          () => exchange(socket, text).then(resolve, reject),
        );
        socket.on('error', reject);
      });

    it("takes a message whose MSH-3/MSH-4 name no source, as the certificate's source", async () => {
      const ack = await send('northgate-engine', admission('CN-1', 'PAS', 'XYZ', '9990000166'));
      expect(ack).toMatch(/MSA\|AA\|CN-1/);
      const { rows } = await r.db.query(`SELECT source_id FROM hl7_message WHERE control_id = 'CN-1'`);
      expect(rows).toEqual([{ source_id: SOURCE }]);
    });

    it('refuses with AR, storing nothing, a message that names another source than the certificate', async () => {
      const ack = await send('northgate-engine', admission('CN-2', OTHER, 'LAB01', '9990000174'));
      expect(ack).toMatch(/MSA\|AR\|CN-2/);
      expect(ack).toMatch(new RegExp(`ERR\\|[^\\r]*${OTHER}[^\\r]*northgate-engine`));
      expect(await landed(r, 'CN-2')).toBe(0);
    });

    it('falls back to MSH-3 for a trusted certificate that is mapped to no source', async () => {
      expect(await send('unmapped-engine', admission('CN-3', SOURCE, 'RX1', '9990000182'))).toMatch(
        /MSA\|AA\|CN-3/,
      );
      expect(await send('unmapped-engine', admission('CN-4', 'PAS', 'XYZ', '9990000190'))).toMatch(
        /MSA\|AR\|CN-4/,
      );
    });
  });

  describe('by peer address', () => {
    let mllp: MllpListener;
    beforeAll(async () => {
      mllp = await startMllpListener(
        r.app.services.hl7,
        { host: '127.0.0.1', port: 0, senders: { addresses: { '127.0.0.1': SOURCE } } },
        r.app.services.log,
      );
    });
    afterAll(async () => mllp.close());

    const send = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: mllp.port }, () =>
          exchange(socket, text).then(resolve, reject),
        );
        socket.on('error', reject);
      });

    it("takes a message from the configured address as that address's source", async () => {
      expect(await send(admission('IP-1', 'PAS', 'XYZ', '9990000204'))).toMatch(/MSA\|AA\|IP-1/);
    });

    it('refuses with AR a message from that address that names another source', async () => {
      const ack = await send(admission('IP-2', OTHER, 'LAB01', '9990000212'));
      expect(ack).toMatch(/MSA\|AR\|IP-2/);
      expect(ack).toMatch(/address 127\.0\.0\.1/);
      expect(await landed(r, 'IP-2')).toBe(0);
    });
  });
});
