/**
 * Which messages of a batch may go through the intake pipeline in one pass (commit.ts). A pass is
 * one call of the pipeline with the messages' entries together: its statements (the person link,
 * the stored versions, the items, the relationship facts) are sent once for the pass instead of
 * once per message, as an NDJSON load of many patients already does. Four round trips a message
 * were most of HL7 v2 intake's time (BENCHMARKS.md).
 *
 * A pass holds consecutive messages of one source, no two about the same patient (their order
 * key), so that a message's data never meets a later message's data about the same record in the
 * same pass: each patient's messages are still applied one after another, in the order they came.
 * A message that names a second patient record (a merge's MRG segment) goes alone: its other record
 * is another order key. Passes are only for the first, unguarded try; if any message is at fault,
 * the batch is run again one message at a time behind savepoints, as before.
 */
import type { ParsedMessage } from './message.ts';

export interface PassItem {
  job: { source: { id: string }; orderKey: string; parsed: ParsedMessage };
}

/** Whether a message names a patient record besides its own (MRG: merges, moves, changes of id). */
const namesAnotherRecord = (parsed: ParsedMessage): boolean => parsed.message.getSegment('MRG') !== undefined;

/** The batch cut into passes, in order: each pass's messages can share one run of the pipeline. */
export function passesOf<T extends PassItem>(items: readonly T[]): T[][] {
  const passes: T[][] = [];
  let pass: T[] = [];
  let keys = new Set<string>();
  const close = () => {
    if (pass.length > 0) passes.push(pass);
    pass = [];
    keys = new Set();
  };
  for (const item of items) {
    const { source, orderKey, parsed } = item.job;
    const alone = namesAnotherRecord(parsed);
    const fits = pass.length > 0 && pass[0]!.job.source.id === source.id && !keys.has(orderKey);
    if (alone || !fits) close();
    pass.push(item);
    keys.add(orderKey);
    if (alone) close();
  }
  close();
  return passes;
}
