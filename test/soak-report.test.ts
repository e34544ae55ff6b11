/**
 * The soak's report names the machine's load honestly: it says other work was running only when
 * the load before the soak says so (it used to say so on every run, on an idle machine too).
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { soakReport } from '../bench/soak/report.ts';
import type { SoakResult } from '../bench/soak/run.ts';

const result: SoakResult = {
  samples: [],
  verdict: { pass: true, line: 'SOAK PASS' } as SoakResult['verdict'],
  seconds: 60,
  totals: { open: 6000 },
  errors: {},
  setup: { persons: 300, resources: 99_036, targets: 300, heavyTargets: 11, loadSeconds: 27 },
};
const report = (loadBefore: number) =>
  soakReport(result, {
    command: 'npm run soak',
    postgres: '15',
    loadBefore: [loadBefore, 1, 1],
    loadAfter: [2, 1.5, 1],
    chart: 'soak.png',
  });

describe("the soak report's machine line", () => {
  it('says nothing of other work when the machine was idle before the soak', () =>
    expect(report(0.1)).not.toMatch(/other work|shared with/));
  it('says other work was running when the load before the soak was over half the cores', () =>
    expect(report(os.cpus().length)).toMatch(/other work was running before the soak started/));
});
