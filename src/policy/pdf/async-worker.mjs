/**
 * Runs in a worker thread (see ./extract.ts, pdfTextAsync): reads the text layer of PDFs
 * (./read.mjs) asked for by message, so that intake reads a letter without blocking the server's
 * event loop while pdfjs works (through synckit the whole loop waited: every other request with it).
 */
import process from 'node:process';
import { parentPort } from 'node:worker_threads';
import { extract } from './read.mjs';

// A document that makes pdfjs throw outside the awaited calls must not take the server with it:
// the caller's wait times out and the document counts as unreadable.
process.on('uncaughtException', () => {});
process.on('unhandledRejection', () => {});

parentPort?.on('message', (/** @type {{ id: number, data: Uint8Array }} */ m) => {
  extract(m.data).then(
    (answer) => parentPort?.postMessage({ id: m.id, answer }),
    () => parentPort?.postMessage({ id: m.id, answer: { ok: false, reason: 'not a readable PDF' } }),
  );
});
