/**
 * How a server process's JavaScript heap grows. V8 lets its old generation grow, before the next
 * full collection, to a factor of what the last one left that its own heuristics choose between
 * 1.1 and 4. On a busy server it mostly chose about 1.4, but now and then, after a full collection
 * that ran while a large request was in flight, it let the heap reach twice its live size and kept
 * many of the pages it had grown into: in the ten-minute soak the resident memory stepped up by
 * 30 MiB and stayed (BENCHMARKS.md, Soak, 2026-12-07). With the factor fixed at 1.5 the heap stayed
 * between its live size and one and a half times it, the resident memory was flat (+1.65 MiB a
 * minute), the server made fewer full collections (64 against 198 in ten minutes) and spent no
 * more CPU an open (4.02 ms against 4.10).
 *
 * Set at run time (V8 reads the flag each time it sets a limit), so that `sharedcare serve` and
 * `demo` have it however they are started; an operator's own `--heap-growing-percent` on the
 * command line is kept.
 * glibc's side of the process's memory is the other half (MALLOC_ARENA_MAX, workers.ts).
 *
 * And V8's allocation-site pretenuring is turned off (stopPretenuring, issue 13).
 */
import v8 from 'node:v8';

/** The old generation grows to (100 + this) % of what a full collection left. */
export const HEAP_GROWING_PERCENT = 50;

const GIVEN = /^--heap[-_]growing[-_]percent(=|$)/;

/** Fixes the heap's growth factor unless the process was started with one; says whether it did. */
export function fixHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => GIVEN.test(a))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}

const PRETENURING_GIVEN = /^--(no[-_])?allocation[-_]site[-_]pretenuring$/;

/**
 * Turns off V8's allocation-site pretenuring, unless the process was started with either form of
 * the flag; says whether it did. Once V8 has seen 85 % of a hundred or more objects from one array
 * or object literal live through a young collection, it allocates that literal's objects in the
 * old generation from then on, and does not go back. An old object that dies is found only by a
 * full collection; until then every young object it points to (an array's elements, a row, its
 * strings) is taken as live by each young collection and copied twice, into the old generation:
 * more of that literal's objects "live", and more literals are pretenured the same way.
 *
 * On the identity decision path (issue 13) every statement's rows array in the driver
 * (`this.rows = []` in pg's Result: 29,137 of 29,137 allocated old, `%InYoungGeneration`) and most
 * of the callers' parameter arrays (15,597 of 16,650) were old, so the rows and parameters of each
 * decision (its candidates' JSON, its keys, the record it writes) outlived two young collections:
 * bench/identity-replay.ts promoted ~580 KB a young collection, ~120 KB without pretenuring
 * (`--trace-gc-nvp`), and made half the full collections.
 *
 * V8 reads the flag when a collection weighs the sites, so setting it at run time takes effect
 * from the next one; a site pretenured already stays so: call it before the work starts.
 */
export function stopPretenuring(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => PRETENURING_GIVEN.test(a))) return false;
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
  return true;
}
