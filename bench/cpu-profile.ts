/**
 * CPU profiles of one phase at a time, taken with V8's sampling profiler through node:inspector
 * (the same profiler and .cpuprofile format as `node --cpu-prof`, but started and stopped around the
 * phase alone), and a plain-text summary of where the time went: the share of samples by function
 * (self) and under each of the project's own functions (total), with file:line.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const root = path.resolve(import.meta.dirname, '..');

export async function profiled<T>(
  file: string,
  fn: () => Promise<T>,
): Promise<{ value: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    const value = await fn();
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    writeFileSync(file, JSON.stringify(profile));
    return { value, profile };
  } finally {
    session.disconnect();
  }
}

/**
 * function file:line, in the TypeScript source: tsx hands V8 transformed code, so positions are
 * mapped back through its source maps (registered when node runs with --enable-source-maps).
 */
const where = (f: CallFrame): string => {
  let line = f.lineNumber;
  if (f.url.startsWith('file://')) {
    const entry = findSourceMap(f.url)?.findEntry(f.lineNumber, f.columnNumber);
    if (entry && 'originalLine' in entry) line = entry.originalLine;
  }
  const url = f.url.replace(/^file:\/\//, '');
  const rel = url.startsWith(root) ? path.relative(root, url) : url.replace(/^.*node_modules\//, '');
  return `${f.functionName || '(anonymous)'} ${rel ? `${rel}:${line + 1}` : ''}`.trim();
};

/** Self and total time by function, as shares of the profile's samples; `own` picks the total rows. */
export function summariseProfile(
  p: CpuProfile,
  top = 25,
  own: (location: string) => boolean = (l) => / (src|bench)\//.test(l),
): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  p.samples.forEach((id, i) => hits.set(id, (hits.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const totalUs = [...hits.values()].reduce((a, b) => a + b, 0);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of hits) {
    const node = byId.get(id)!;
    const key = where(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = where(byId.get(cur)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %`;
  const rows = (m: Map<string, number>, filter: (k: string) => boolean) =>
    [...m]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${pct(us)}  ${k}`);
  return [
    `sampled ${(totalUs / 1000).toFixed(0)} ms`,
    'self time, by function:',
    ...rows(self, () => true),
    "total time under the project's own functions:",
    ...rows(total, own),
  ].join('\n');
}
