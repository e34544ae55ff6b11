import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Admission, registerAdmission } from './admission.ts';

const admitted = (x: Promise<boolean> | boolean) => Promise.resolve(x);

describe('Admission', () => {
  afterEach(() => vi.useRealTimers());

  it('admits up to its limit at once, then one waiting request per release, first come first served', async () => {
    const a = new Admission({ limit: 2, maxQueue: 10, maxWaitMs: 60_000 });
    expect(a.enter()).toBe(true);
    expect(a.enter()).toBe(true);
    const order: string[] = [];
    const third = admitted(a.enter()).then((ok) => order.push(`third ${ok}`));
    const fourth = admitted(a.enter()).then((ok) => order.push(`fourth ${ok}`));
    expect(a.waiting).toBe(2);
    await Promise.resolve();
    expect(order).toEqual([]);
    a.release();
    await third;
    expect(order).toEqual(['third true']);
    a.release();
    await fourth;
    expect(order).toEqual(['third true', 'fourth true']);
    expect(a.inProgress).toBe(2);
    a.release();
    a.release();
    expect(a.inProgress).toBe(0);
    expect(a.enter()).toBe(true);
  });

  it('refuses at once when the queue is full', () => {
    const a = new Admission({ limit: 1, maxQueue: 1, maxWaitMs: 60_000 });
    expect(a.enter()).toBe(true);
    expect(a.enter()).toBeInstanceOf(Promise);
    expect(a.enter()).toBe(false);
  });

  it('refuses a request that waited too long, and its place is not lost', async () => {
    vi.useFakeTimers();
    const a = new Admission({ limit: 1, maxQueue: 5, maxWaitMs: 1000 });
    expect(a.enter()).toBe(true);
    const late = admitted(a.enter());
    vi.advanceTimersByTime(999);
    const next = admitted(a.enter());
    vi.advanceTimersByTime(1);
    expect(await late).toBe(false);
    a.release();
    expect(await next).toBe(true);
    a.release();
    expect(a.inProgress).toBe(0);
  });

  it('drops a waiting request whose caller went away', async () => {
    const a = new Admission({ limit: 1, maxQueue: 5, maxWaitMs: 60_000 });
    expect(a.enter()).toBe(true);
    const gone = new AbortController();
    const first = admitted(a.enter(gone.signal));
    const second = admitted(a.enter());
    gone.abort();
    expect(await first).toBe(false);
    a.release();
    expect(await second).toBe(true);
    a.release();
    expect(a.inProgress).toBe(0);
    expect(a.waiting).toBe(0);
  });
});

describe('registerAdmission over HTTP', () => {
  it('queues, refuses with a 503 OperationOutcome and Retry-After when full, and frees places as answers go', async () => {
    const app = Fastify({ forceCloseConnections: true });
    const hold: (() => void)[] = [];
    let started = 0;
    const registry = new Registry();
    const admission = registerAdmission(app, { limit: 1, maxQueue: 1, maxWaitMs: 30_000 }, registry);
    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
    app.get('/slow', async () => {
      started++;
      await new Promise<void>((resolve) => hold.push(resolve));
      return { ok: true };
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const first = fetch(`${base}/slow`);
      await vi.waitFor(() => expect(started).toBe(1));
      const second = fetch(`${base}/slow`);
      await vi.waitFor(() => expect(admission.waiting).toBe(1));
      const third = await fetch(`${base}/slow`);
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('1');
      expect(await third.json()).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'transient' }],
      });
      expect(started).toBe(1);
      // what an operator sees on /metrics meanwhile
      expect(await metric('sharedcare_fhir_reads_in_progress')).toBe(1);
      expect(await metric('sharedcare_fhir_reads_waiting')).toBe(1);
      expect(await metric('sharedcare_fhir_reads_refused_total')).toBe(1);

      hold.shift()!();
      expect((await first).status).toBe(200);
      await vi.waitFor(() => expect(started).toBe(2));
      hold.shift()!();
      expect((await second).status).toBe(200);
      await vi.waitFor(() => expect(admission.inProgress).toBe(0));

      // a client that gives up while waiting leaves no place taken
      const fourth = fetch(`${base}/slow`);
      await vi.waitFor(() => expect(started).toBe(3));
      const quitter = new AbortController();
      const fifth = fetch(`${base}/slow`, { signal: quitter.signal }).catch((e: Error) => e.name);
      await vi.waitFor(() => expect(admission.waiting).toBe(1));
      quitter.abort();
      expect(await fifth).toBe('AbortError');
      await vi.waitFor(() => expect(admission.waiting + admission.inProgress).toBe(1));
      hold.shift()!();
      expect((await fourth).status).toBe(200);
      await vi.waitFor(() => expect(admission.inProgress).toBe(0));
      expect(started).toBe(3);
    } finally {
      for (const h of hold) h();
      await app.close();
    }
  });
});
