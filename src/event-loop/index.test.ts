import { describe, expect, it } from 'vitest';
import { mapWithTurns, TURN_MS, turns } from './index.ts';

describe('turns of the event loop in long loops', () => {
  it('gives a turn only once TURN_MS have passed since the last', async () => {
    let now = 0;
    const turn = turns(() => now);
    now = TURN_MS - 1;
    expect(turn()).toBeUndefined();
    now = TURN_MS;
    const t = turn();
    expect(t).toBeInstanceOf(Promise);
    await t;
    expect(turn()).toBeUndefined(); // the clock restarted at the turn
  });

  it('lets work that arrived meanwhile run in the middle of a long map, and keeps the results in order', async () => {
    let done = 0;
    let ranAfter = -1;
    setImmediate(() => {
      ranAfter = done; // a request that arrived while the loop ran
    });
    const out = await mapWithTurns(
      Array.from({ length: 40 }, (_, i) => i),
      (x) => {
        const until = performance.now() + 1;
        while (performance.now() < until); // a millisecond of work per item
        done++;
        return x * 2;
      },
    );
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    expect(ranAfter).toBeGreaterThan(0);
    expect(ranAfter).toBeLessThan(40);
  });
});
