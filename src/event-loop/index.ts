/**
 * Long per-entry work gives the event loop a turn every few milliseconds, so that requests arriving
 * meanwhile (a clinician's record open) are not held behind it. One server process answers record
 * opens and takes intake on one thread: an NDJSON request of 434 resources held that thread for
 * 54 ms in one piece (its references rewritten, its items classified and serialised), and each
 * open that arrived waited for all of it (the soak's slow opens came in the second after an intake
 * request more than twice as often as at other times).
 *
 * Hand-written: what is needed is a check of the clock in a loop and `setImmediate`, which lets
 * I/O callbacks run first (a resolved promise would not); no library is smaller than that.
 */

/** How long a loop runs before it gives the event loop a turn. */
export const TURN_MS = 4;

/**
 * A function to await once per entry in a long loop: it resolves at once until TURN_MS have passed
 * since the last turn, then after one pass of the event loop. `now` is for tests.
 */
export function turns(now: () => number = () => performance.now()): () => Promise<void> | undefined {
  let since = now();
  return () => {
    if (now() - since < TURN_MS) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        since = now();
        resolve();
      }),
    );
  };
}

/** `items.map(fn)`, with a turn of the event loop every TURN_MS. */
export async function mapWithTurns<T, R>(items: readonly T[], fn: (item: T, i: number) => R): Promise<R[]> {
  const turn = turns();
  const out: R[] = [];
  for (let i = 0; i < items.length; i++) {
    out.push(fn(items[i]!, i));
    const t = turn();
    if (t) await t;
  }
  return out;
}
