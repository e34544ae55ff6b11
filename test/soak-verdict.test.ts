import { describe, expect, it } from 'vitest';
import { afterCollections, heapFloor, judge, slope } from '../bench/soak/verdict.ts';
import type { Sample } from '../bench/soak/sample.ts';

/** A sample every 10 s for `minutes`, heap from `heap(t)`, RSS flat. */
function samples(minutes: number, heap: (t: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let t = 10; t <= minutes * 60; t += 10)
    out.push({
      t,
      ops: {},
      errors: {},
      harnessLagP99: 0,
      serverLoopMaxMs: 0,
      rssMiB: 300,
      heapUsedMiB: heap(t),
      dbConnections: 5,
      auditOpens: 0,
      opensServed: 0,
    });
  return out;
}

const input = (s: Sample[]) => ({
  samples: s,
  openLatencies: Array.from({ length: 6000 }, () => 10),
  seconds: 60,
  targetOpensPerSecond: 100,
  errors: {},
  auditOpens: 6000,
  opensServed: 6000,
});

// the collector's sawtooth: the heap grows 20 MiB between collections every 50 s, then drops back
const sawtooth = (floor: (t: number) => number) => (t: number) => floor(t) + ((t % 50) / 50) * 20;

describe('the soak verdict on memory', () => {
  it('takes the lowest heap sample of each minute as its floor', () => {
    expect(
      heapFloor([
        { t: 10, heapUsedMiB: 90 },
        { t: 50, heapUsedMiB: 70 },
        { t: 70, heapUsedMiB: 80 },
        { t: 110, heapUsedMiB: Number.NaN },
      ]),
    ).toEqual([
      [0.5, 70],
      [1.5, 80],
    ]);
  });

  it('calls a sawtooth around a flat floor flat, though the last sample caught a tooth', () => {
    // every sample, unfiltered, would slope upwards here: the last minute's samples caught tall teeth
    const heap = (t: number) => (t >= 570 && t % 50 !== 0 ? 160 : sawtooth(() => 100)(t));
    const s = samples(10, heap);
    const raw = slope(s.filter((x) => x.t > 120).map((x) => [x.t / 60, x.heapUsedMiB]));
    expect(raw).toBeGreaterThan(1);
    const v = judge(input(s));
    expect(v.checks.find((c) => c.name === 'memory flat')!.pass).toBe(true);
    expect(v.pass).toBe(true);
  });

  it('fails a floor that climbs 3 MiB a minute, whatever the sawtooth does on top', () => {
    const v = judge(
      input(
        samples(
          10,
          sawtooth((t) => 100 + (3 * t) / 60),
        ),
      ),
    );
    expect(v.heapSlope).toBeCloseTo(3, 0);
    expect(v.checks.find((c) => c.name === 'memory flat')!.pass).toBe(false);
    expect(v.line).toMatch(/^SOAK FAIL: .*memory flat FAILED \(heap floor: heap \+[23]\.\d\d MiB\/min/);
  });

  /**
   * What the soak of 2026-12-06 13:26 showed: a full collection every ninety seconds or more, the
   * heap climbing 100 MiB between them and always brought back to the same level.
   */
  const longTeeth = (level: (t: number) => number) => (s: Sample[]) =>
    s.map((x) => {
      const collections = Math.floor(x.t / 90);
      const since = x.t - collections * 90;
      const back = level(collections * 90);
      return {
        ...x,
        heapUsedMiB: back + (since / 90) * 100,
        rssMiB: 300 + back + (since / 90) * 100,
        ...(collections > 0 ? { afterGc: { heapUsedMiB: back, rssMiB: 300 + back, collections } } : {}),
      };
    });

  it('judges memory as full collections leave it: a long sawtooth over a flat level is flat', () => {
    const s = longTeeth(() => 70)(samples(10, () => 0));
    // the floor of each minute is lifted by teeth longer than a minute
    expect(slope(heapFloor(s.filter((x) => x.t > 120)))).toBeGreaterThan(1);
    expect(afterCollections(s).heap.length).toBeGreaterThanOrEqual(5);
    const v = judge(input(s));
    expect(v.heapSlope).toBeCloseTo(0, 5);
    expect(v.line).toMatch(/memory flat ok \(after \d+ full collections: heap \+0\.00 MiB\/min/);
  });

  it('fails a level after full collections that climbs 3 MiB a minute', () => {
    const v = judge(input(longTeeth((t) => 70 + (3 * t) / 60)(samples(10, () => 0))));
    expect(v.heapSlope).toBeCloseTo(3, 1);
    expect(v.rssSlope).toBeCloseTo(3, 1);
    expect(v.checks.find((c) => c.name === 'memory flat')!.pass).toBe(false);
  });

  it('counts each full collection once, and only after the first two minutes', () => {
    const at = (t: number, collections: number, heap: number) => ({
      t,
      afterGc: { heapUsedMiB: heap, rssMiB: heap + 200, collections },
    });
    expect(
      afterCollections([at(100, 1, 60), at(130, 1, 60), at(140, 2, 62), at(150, 2, 62), at(160, 4, 61)]),
    ).toEqual({
      heap: [
        [140 / 60, 62],
        [160 / 60, 61],
      ],
      rss: [
        [140 / 60, 262],
        [160 / 60, 261],
      ],
    });
  });
});
