/**
 * The soak's CPU column for `serve --workers N`: the server's CPU is its own and its workers'
 * (children forked by the primary), read from /proc. A real child that spends CPU is counted.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { processCpuSeconds, treeCpuSeconds } from '../bench/soak/cpu.ts';

describe.skipIf(!existsSync(`/proc/${process.pid}/task/${process.pid}/children`))(
  'soak CPU of a process tree',
  () => {
    it("counts a child's CPU with its parent's, and only the parent's without children", async () => {
      const own = treeCpuSeconds(process.pid)! - processCpuSeconds(process.pid)!;
      expect(own).toBeCloseTo(0, 1);
      // a child that spends about half a second of CPU, then waits to be killed
      const child = spawn(
        process.execPath,
        [
          '-e',
          'const end = process.cpuUsage().user + 5e5; while (process.cpuUsage().user < end); console.log("done"); setInterval(() => {}, 1000);',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        await once(child.stdout!, 'data');
        const children = treeCpuSeconds(process.pid)! - processCpuSeconds(process.pid)!;
        expect(children).toBeGreaterThanOrEqual(0.4);
        expect(processCpuSeconds(child.pid)).toBeGreaterThanOrEqual(0.4);
      } finally {
        child.kill();
      }
    });
  },
);
