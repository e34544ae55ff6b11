/**
 * /metrics carries the memory that remains after the collector's last full collection (what a
 * leak moves; the soak's verdict judges it), and how many full collections there have been.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/api/index.ts';
import { GC_MEMORY_METRICS } from '../src/api/gc-memory.ts';

/** A full collection on demand, without starting node with --expose-gc. */
function fullGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

describe('memory after full collections in /metrics', () => {
  it('counts each full collection and reads the heap and RSS as it ends', async () => {
    const { registry } = createMetrics();
    fullGc();
    await new Promise((r) => setTimeout(r, 50)); // performance entries are delivered after the collection
    const before = await registry.metrics();
    const count = value(before, GC_MEMORY_METRICS.collections);
    expect(count).toBeGreaterThanOrEqual(1);
    const heap = value(before, GC_MEMORY_METRICS.heapUsed);
    const rss = value(before, GC_MEMORY_METRICS.rss);
    expect(heap).toBeGreaterThan(1024 * 1024);
    expect(rss).toBeGreaterThan(heap);

    // 50 MiB kept alive across a full collection shows in the heap it leaves behind
    const kept = Array.from({ length: 50 }, () => new Array<number>(128 * 1024).fill(1.5));
    fullGc();
    await new Promise((r) => setTimeout(r, 50));
    const after = await registry.metrics();
    expect(value(after, GC_MEMORY_METRICS.collections)).toBeGreaterThan(count);
    expect(value(after, GC_MEMORY_METRICS.heapUsed) - heap).toBeGreaterThan(40 * 1024 * 1024);
    expect(kept.length).toBe(50);
  });
});
