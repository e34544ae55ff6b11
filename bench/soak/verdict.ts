/**
 * The soak's verdict against its aims: no errors; p99 of a typical open at most 50 ms at the
 * target rate while intake runs (and the rate actually sustained); memory flat after the first two
 * minutes (least-squares slope of heap and RSS as the server's full collections left them, or of
 * the heap's floor and RSS where it ran fewer than three); one record.open audit event for every
 * open served.
 */
import { percentile } from '../stats.ts';
import type { Sample } from './sample.ts';

export const AIMS = {
  openP99Ms: 50,
  /** the opens served must reach this share of the target rate to count as sustained */
  sustainedShare: 0.95,
  /** memory is flat when neither slope, after the first two minutes, exceeds these (MiB per minute) */
  heapSlopeMiBPerMin: 1,
  rssSlopeMiBPerMin: 2,
  settleSeconds: 120,
  /** samples needed after settling to judge a slope */
  minSlopeSamples: 6,
  /** the heap's floor is its lowest sample in each window of this length (see heapFloor) */
  floorWindowSeconds: 60,
};

export interface Check {
  name: string;
  /** undefined: not judged (the run was too short) */
  pass: boolean | undefined;
  detail: string;
}

export interface Verdict {
  pass: boolean;
  checks: Check[];
  line: string;
  openP99: number;
  opensPerSecond: number;
  heapSlope: number;
  rssSlope: number;
  errors: number;
  auditOpens: number;
  opensServed: number;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/**
 * The heap after collection, approximated by its lowest sample in each window: heap used at a
 * 10 s sample is wherever the collector's sawtooth happened to be, so its slope over a few minutes
 * is mostly which tooth the first and last samples caught. What a leak moves is the floor the
 * sawtooth returns to. (The server is not run with --expose-gc, so the harness cannot collect
 * before sampling; the lowest of ~6 samples a minute lands near a collection.) Points are
 * (window's middle in minutes, MiB).
 */
export function heapFloor(
  samples: readonly Pick<Sample, 't' | 'heapUsedMiB'>[],
  windowSeconds = AIMS.floorWindowSeconds,
): [number, number][] {
  const floors = new Map<number, number>();
  for (const s of samples) {
    if (!Number.isFinite(s.heapUsedMiB)) continue;
    const w = Math.floor(s.t / windowSeconds);
    floors.set(w, Math.min(floors.get(w) ?? Infinity, s.heapUsedMiB));
  }
  return [...floors].sort(([a], [b]) => a - b).map(([w, mib]) => [((w + 0.5) * windowSeconds) / 60, mib]);
}

/**
 * The server's memory as each full collection left it, one point per collection seen (a sample whose
 * count of full collections moved on since the sample before), after `afterSeconds`: the level a
 * leak raises. Points are (sample's time in minutes, MiB).
 */
export function afterCollections(
  samples: readonly Pick<Sample, 't' | 'afterGc'>[],
  afterSeconds = AIMS.settleSeconds,
): { heap: [number, number][]; rss: [number, number][] } {
  const heap: [number, number][] = [];
  const rss: [number, number][] = [];
  let seen = 0;
  for (const s of samples) {
    const g = s.afterGc;
    if (!g || g.collections <= seen) continue;
    seen = g.collections;
    if (s.t <= afterSeconds || !Number.isFinite(g.heapUsedMiB)) continue;
    heap.push([s.t / 60, g.heapUsedMiB]);
    rss.push([s.t / 60, g.rssMiB]);
  }
  return { heap, rss };
}

export interface VerdictInput {
  samples: Sample[];
  openLatencies: number[];
  /** the load's length, s */
  seconds: number;
  targetOpensPerSecond: number;
  errors: Record<string, number>;
  /** after the load drained */
  auditOpens: number;
  opensServed: number;
}

export function judge(v: VerdictInput): Verdict {
  const errors = Object.values(v.errors).reduce((s, n) => s + n, 0);
  const openP99 = percentile(
    [...v.openLatencies].sort((a, b) => a - b),
    99,
  );
  const opensPerSecond = v.openLatencies.length / v.seconds;
  const settled = v.samples.filter((s) => s.t > AIMS.settleSeconds && Number.isFinite(s.heapUsedMiB));
  const judgeable = settled.length >= AIMS.minSlopeSamples;
  // Memory after full collections where the server ran three or more after settling; else the
  // heap's floor per minute (which a sawtooth longer than a minute lifts: a full collection every
  // ninety seconds made a flat heap look like +10 MiB/min), and RSS at every sample.
  const collected = afterCollections(v.samples);
  const byCollections = collected.heap.length >= 3;
  const floors = heapFloor(settled);
  // a slope through fewer than three windows' floors says little: fall back to every sample
  const heapSlope = byCollections
    ? slope(collected.heap)
    : floors.length >= 3
      ? slope(floors)
      : slope(settled.map((s) => [s.t / 60, s.heapUsedMiB]));
  const rssSlope = byCollections ? slope(collected.rss) : slope(settled.map((s) => [s.t / 60, s.rssMiB]));
  const measured = byCollections ? `after ${collected.heap.length} full collections` : 'heap floor';
  const sustained = opensPerSecond >= AIMS.sustainedShare * v.targetOpensPerSecond;

  const checks: Check[] = [
    {
      name: 'errors',
      pass: errors === 0,
      detail:
        errors === 0
          ? 'none'
          : Object.entries(v.errors)
              .map(([k, n]) => `${k} ×${n}`)
              .join(', '),
    },
    {
      name: 'open p99',
      pass: openP99 <= AIMS.openP99Ms && sustained,
      detail: `${openP99.toFixed(1)} ms (aim ≤ ${AIMS.openP99Ms}) at ${opensPerSecond.toFixed(1)} opens/s (target ${v.targetOpensPerSecond}${sustained ? '' : ', NOT sustained'})`,
    },
    {
      name: 'memory flat',
      pass: judgeable
        ? heapSlope <= AIMS.heapSlopeMiBPerMin && rssSlope <= AIMS.rssSlopeMiBPerMin
        : undefined,
      detail: judgeable
        ? `${measured}: heap ${signed(heapSlope)} MiB/min (aim ≤ ${AIMS.heapSlopeMiBPerMin}), RSS ${signed(rssSlope)} MiB/min (aim ≤ ${AIMS.rssSlopeMiBPerMin}) after ${AIMS.settleSeconds} s`
        : `not judged: fewer than ${AIMS.minSlopeSamples} samples after the first ${AIMS.settleSeconds} s`,
    },
    {
      name: 'audit',
      pass: v.auditOpens === v.opensServed,
      detail: `${v.auditOpens} record.open events for ${v.opensServed} opens served`,
    },
  ];
  const pass = checks.every((c) => c.pass !== false);
  const line = `SOAK ${pass ? 'PASS' : 'FAIL'}: ${checks
    .map((c) => `${c.name} ${c.pass === undefined ? '–' : c.pass ? 'ok' : 'FAILED'} (${c.detail})`)
    .join('; ')}`;
  return {
    pass,
    checks,
    line,
    openP99,
    opensPerSecond,
    heapSlope,
    rssSlope,
    errors,
    auditOpens: v.auditOpens,
    opensServed: v.opensServed,
  };
}

const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(2)}` : '–');
