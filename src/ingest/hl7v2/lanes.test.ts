import { describe, expect, it } from 'vitest';
import { Lanes } from './lanes.ts';

describe('HL7 v2 commit lanes', () => {
  it('keeps one key in order, batches what queued while a lane was busy, and caps the batch', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const lanes = new Lanes<string>(1, 3, async (batch) => {
      batches.push(batch);
      if (batches.length === 1) await gate;
    });
    for (const m of ['a1', 'a2', 'a3', 'a4', 'a5']) lanes.push('source|patient-a', m);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(batches).toEqual([['a1'], ['a2', 'a3', 'a4'], ['a5']]);
  });

  it('runs different keys on different lanes side by side', async () => {
    const running = new Set<string>();
    let most = 0;
    const lanes = new Lanes<string>(4, 10, async (batch) => {
      for (const j of batch) running.add(j);
      most = Math.max(most, running.size);
      await new Promise((r) => setTimeout(r, 20));
      for (const j of batch) running.delete(j);
    });
    for (let i = 0; i < 16; i++) lanes.push(`source|patient-${i}`, `m${i}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(most).toBeGreaterThan(1);
  });
});
