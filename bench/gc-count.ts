/**
 * V8's collections in this process while a timed pass runs, and the bytes it allocated: a
 * decision that coincides with a collection waits for it, and on two cores a parallel scavenge's
 * helper threads can take the core the database's backend wanted. Counted while the pass runs:
 * the observer's callbacks come between decisions, never inside one's timing.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';

export interface Collections {
  young: number;
  youngMs: number;
  full: number;
  fullMs: number;
}

export function collections(): { stop(): Collections } {
  const seen: Collections = { young: 0, youngMs: 0, full: 0, fullMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        seen.young++;
        seen.youngMs += e.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        seen.full++;
        seen.fullMs += e.duration;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      return seen;
    },
  };
}
