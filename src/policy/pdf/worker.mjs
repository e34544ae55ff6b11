/**
 * Runs in a worker thread (see ./extract.ts): reads the text layer of one PDF (./read.mjs). pdfjs is
 * asynchronous; the classifier that needs the words is synchronous (it runs inside relabelling's
 * loops and the review queue), so this worker is called through synckit, which blocks the caller
 * until the answer comes back. Intake reads its PDFs ahead, without blocking, through
 * ./async-worker.mjs.
 */
import process from 'node:process';
import { runAsWorker } from 'synckit';
import { extract } from './read.mjs';

// A document that makes pdfjs throw outside the awaited calls must not take the server with it:
// the caller's wait times out and the document counts as unreadable.
process.on('uncaughtException', () => {});
process.on('unhandledRejection', () => {});

runAsWorker(extract);
