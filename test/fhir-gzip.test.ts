/**
 * Compression of FHIR answers as a client on a socket sees it: a large record open (over 64 KiB,
 * compressed in one call in the thread pool: brotli for a client that takes it, as every browser
 * does, else gzip) and a small one (gzipped by @fastify/compress) each come back compressed once,
 * whole, with the headers a cache and a client need; a client that does not ask for compression,
 * or asks for deflate only, gets what it asked for.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONE_SHOT_FROM_BYTES } from '../src/api/fhir/large-answer.ts';
import { startRegion, type TestRegion } from './kit.ts';
import { bundle, NHS_A, NHS_B, observation, patient } from './fhir-data.ts';
import { personIdFor, postFhir } from './http.ts';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
}

let r: TestRegion;
let base: string;
let token: string;
let large: string;
let small: string;

function get(path: string, acceptEncoding?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        headers: {
          authorization: `Bearer ${token}`,
          ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const entries = (text: string) => (JSON.parse(text) as Bundle).entry?.length ?? 0;

beforeAll(async () => {
  r = await startRegion('pglite');
  // 300 results with a long note each: a Bundle of a few hundred KiB
  const many: Resource[] = [patient('big', NHS_A)];
  for (let i = 0; i < 300; i++)
    many.push(
      observation(`obs-${i}`, 'Patient/big', 40 + (i % 30), '2022-04-15', {
        note: [{ text: `Result ${i}: ${'reviewed and stable. '.repeat(20)}` }],
      }),
    );
  expect((await postFhir(r, 'gp-riverside', bundle('batch', many))).status).toBe(200);
  expect((await postFhir(r, 'gp-riverside', bundle('batch', [patient('small', NHS_B)]))).status).toBe(200);
  large = await personIdFor(r, NHS_A);
  small = await personIdFor(r, NHS_B);
  token = await r.userToken('dr.gzip', 'Y90001');
  await r.app.server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(r.app.server.server.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => r.drop());

describe('compression of FHIR answers over a socket', () => {
  it('sends a large record open gzipped once, with its compressed length and Vary', async () => {
    const plain = await get(`/fhir/Patient/${large}/$everything`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.bytes.length).toBeGreaterThan(ONE_SHOT_FROM_BYTES);

    const zipped = await get(`/fhir/Patient/${large}/$everything`, 'gzip, deflate');
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-length']).toBe(String(zipped.bytes.length));
    expect(String(zipped.headers.vary)).toMatch(/accept-encoding/i);
    expect(zipped.bytes.length).toBeLessThan(plain.bytes.length / 4);
    const text = gunzipSync(zipped.bytes).toString('utf8');
    expect(entries(text)).toBe(entries(plain.bytes.toString('utf8')));
    expect(entries(text)).toBeGreaterThanOrEqual(301);
  });

  it("sends a large record open in brotli to a client that takes it (a browser's header), smaller than gzip", async () => {
    const plain = await get(`/fhir/Patient/${large}/$everything`);
    const gz = await get(`/fhir/Patient/${large}/$everything`, 'gzip, deflate');
    const br = await get(`/fhir/Patient/${large}/$everything`, 'gzip, deflate, br, zstd');
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-length']).toBe(String(br.bytes.length));
    expect(String(br.headers.vary)).toMatch(/accept-encoding/i);
    expect(br.bytes.length).toBeLessThan(gz.bytes.length);
    const text = brotliDecompressSync(br.bytes).toString('utf8');
    expect(entries(text)).toBe(entries(plain.bytes.toString('utf8')));
    expect(entries(text)).toBeGreaterThanOrEqual(301);
    // a client that prefers gzip by its weights gets gzip
    const preferGzip = await get(`/fhir/Patient/${large}/$everything`, 'br;q=0.5, gzip');
    expect(preferGzip.headers['content-encoding']).toBe('gzip');
    expect(entries(gunzipSync(preferGzip.bytes).toString('utf8'))).toBeGreaterThanOrEqual(301);
  });

  it('honours "*" and a refusal of gzip, as @fastify/compress does', async () => {
    const any = await get(`/fhir/Patient/${large}/$everything`, '*');
    expect(any.headers['content-encoding']).toBe('gzip');
    expect(entries(gunzipSync(any.bytes).toString('utf8'))).toBeGreaterThanOrEqual(301);
    const deflateOnly = await get(`/fhir/Patient/${large}/$everything`, 'gzip;q=0, deflate');
    expect(deflateOnly.headers['content-encoding']).toBe('deflate');
    expect(entries(inflateSync(deflateOnly.bytes).toString('utf8'))).toBeGreaterThanOrEqual(301);
    const identity = await get(`/fhir/Patient/${large}/$everything`, 'identity');
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(entries(identity.bytes.toString('utf8'))).toBeGreaterThanOrEqual(301);
  });

  it('still gzips a small answer through @fastify/compress', async () => {
    const res = await get(`/fhir/Patient/${small}/$everything`, 'gzip');
    expect(res.status).toBe(200);
    expect(res.bytes.length).toBeLessThan(ONE_SHOT_FROM_BYTES);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect((JSON.parse(gunzipSync(res.bytes).toString('utf8')) as Bundle).resourceType).toBe('Bundle');
  });
});
