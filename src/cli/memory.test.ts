import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixHeapGrowth, HEAP_GROWING_PERCENT, stopPretenuring } from './memory.ts';

const MEMORY_TS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory.ts');

/**
 * A process that calls fixHeapGrowth, keeps ~40 MiB alive and, for a second and a half, promotes
 * garbage into the old generation as a busy server does (objects that outlive a few scavenges,
 * then are dropped). It prints its live heap after a full collection and the highest heap it reached.
 */
function heapWithFixedGrowth(): { liveMiB: number; peakMiB: number } {
  const script = `
    import { fixHeapGrowth } from ${JSON.stringify(MEMORY_TS)};
    fixHeapGrowth();
    const live = [];
    for (let i = 0; i < 400000; i++) live.push({ a: i, b: 'x' + i, c: [i] });
    globalThis.gc();
    const liveBytes = process.memoryUsage().heapUsed;
    let peak = 0, kept = [];
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      for (let i = 0; i < 2000; i++) kept.push({ s: 'y'.repeat(50) + i, n: [i, i] });
      if (kept.length > 200000) kept = [];
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    console.log(JSON.stringify({ liveMiB: liveBytes / 2 ** 20, peakMiB: peak / 2 ** 20, kept: live.length }));
  `;
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as { liveMiB: number; peakMiB: number };
}

describe("the server's heap growth", () => {
  it('keeps a --heap-growing-percent the process was started with', () => {
    expect(fixHeapGrowth(['--heap-growing-percent=30'])).toBe(false);
    expect(fixHeapGrowth(['--heap_growing_percent', '30'])).toBe(false);
  });

  it('holds the heap near one and a half times what a full collection left', () => {
    const fixed = heapWithFixedGrowth();
    // live at a collection: what was kept from the start, and up to ~30 MiB of the garbage still
    // referenced; the old generation may grow to 1.5 times that, the young one (up to 3 x 16 MiB)
    // comes on top
    const bound = (fixed.liveMiB + 32) * (1 + HEAP_GROWING_PERCENT / 100) + 96;
    expect(fixed.peakMiB).toBeLessThan(bound);
    // measured on Node 20: ~200 MiB with the fix, ~410 without (the same process without the call), for a bound of ~230
  }, 60_000);
});

/**
 * Of 100 arrays made by one literal at the end of a run that made a million there, most of which
 * lived through young collections (held in batches between turns of the event loop, as a
 * statement's rows are), how many V8 allocated in the old generation: all of them once it
 * pretenures that literal.
 */
function pretenured(stop: boolean): number {
  const script = `
    import { stopPretenuring } from ${JSON.stringify(MEMORY_TS)};
    if (${stop}) stopPretenuring();
    const young = new Function('o', 'return %InYoungGeneration(o)');
    const make = (i) => [i, 'x' + i];
    let kept = [];
    let old = 0;
    function turn(t) {
      for (let i = 0; i < 5000; i++) kept.push(make(i));
      const garbage = []; // young collections
      for (let j = 0; j < 20000; j++) garbage.push({ j });
      if (kept.length >= 200000) kept = [];
      if (t >= 190) for (let i = 0; i < 10; i++) if (!young(make(i))) old++;
    }
    for (let t = 0; t < 200; t++) {
      turn(t);
      await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(old);
  `;
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--allow-natives-syntax', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  return Number(run.stdout.trim().split('\n').pop());
}

describe("the server's young objects", () => {
  it('keeps either form of --allocation-site-pretenuring the process was started with', () => {
    expect(stopPretenuring(['--allocation-site-pretenuring'])).toBe(false);
    expect(stopPretenuring(['--no_allocation_site_pretenuring'])).toBe(false);
  });

  it('are allocated young however many of one literal lived before', () => {
    // V8 (Node 20) does pretenure this literal by default: if it stops, stopPretenuring can go
    expect(pretenured(false)).toBe(100);
    expect(pretenured(true)).toBe(0);
  }, 60_000);
});
