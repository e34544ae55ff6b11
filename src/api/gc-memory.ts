/**
 * Memory as it stands right after the collector's full (mark-compact) collections, for /metrics.
 * Heap used and RSS at any other moment are wherever the collector's sawtooth happens to be: on a
 * busy server the heap can climb by 100 MiB for a minute and a half before a full collection takes
 * it back to where it was, so a leak is told by the level each full collection returns to, not by
 * a sample. prom-client has the collections' durations, not this; Node's `gc` performance entries
 * say when a full collection ran, and the process's memory is read as each one is delivered.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

const after = { heapUsed: Number.NaN, rss: Number.NaN, collections: 0 };
let observer: PerformanceObserver | undefined;

/** One observer for the process, however many apps it builds (tests build many). */
function observe(): void {
  if (observer) return;
  observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      const m = process.memoryUsage();
      after.heapUsed = m.heapUsed;
      after.rss = m.rss;
      after.collections++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}

export const GC_MEMORY_METRICS = {
  heapUsed: 'sharedcare_heap_used_after_full_gc_bytes',
  rss: 'sharedcare_resident_memory_after_full_gc_bytes',
  collections: 'sharedcare_full_gcs',
} as const;

export function registerGcMemory(registry: Registry): void {
  observe();
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const v = value();
        if (Number.isFinite(v)) this.set(v);
      },
    });
  gauge(
    GC_MEMORY_METRICS.heapUsed,
    'V8 heap used right after the last full collection',
    () => after.heapUsed,
  );
  gauge(GC_MEMORY_METRICS.rss, 'Resident memory right after the last full collection', () => after.rss);
  gauge(GC_MEMORY_METRICS.collections, 'Full collections since the process started', () => after.collections);
}
