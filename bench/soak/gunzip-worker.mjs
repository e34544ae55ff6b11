// The soak harness's decompression, in a thread of its own (see http-get.ts): each message is one
// response body (its ArrayBuffer transferred here), the answer whether it decoded.
import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

parentPort.on('message', ({ id, encoding, body }) => {
  const bytes = Buffer.from(body);
  try {
    if (encoding === 'gzip') gunzipSync(bytes, { chunkSize: outputChunk(bytes) });
    else if (encoding === 'deflate') inflateSync(bytes, { chunkSize: 1 << 20 });
    else if (encoding === 'br') brotliDecompressSync(bytes, { chunkSize: 1 << 20 });
    parentPort.postMessage({ id, ok: true });
  } catch {
    parentPort.postMessage({ id, ok: false });
  }
});

/**
 * One output chunk for the whole body: gzip's trailer ends with the uncompressed size (ISIZE, mod
 * 2^32); with zlib's default 16 KiB chunks a 500 KiB Bundle came out in about 33 pieces.
 */
function outputChunk(gz) {
  const size = gz.length >= 18 ? gz.readUInt32LE(gz.length - 4) : 0;
  return Math.min(Math.max(64 * 1024, size + 1), 64 * 1024 * 1024);
}
