import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRetryingDiscovery, type RetryingDiscovery } from '../../../src/auth/oidc-discovery.ts';

const created: Array<RetryingDiscovery<string>> = [];
afterEach(() => {
  for (const discovery of created.splice(0)) discovery.stop();
});

function failingTimes(failures: number): { discover: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    discover: async () => {
      calls += 1;
      if (calls <= failures) throw new Error(`down #${calls}`);
      return 'config';
    },
    calls: () => calls,
  };
}

function make(discover: () => Promise<string>, retry = { initialMs: 10, maxMs: 40 }, random = () => 1) {
  const delays: number[] = [];
  const discovery = createRetryingDiscovery({
    discover,
    retry,
    random,
    describeError: (e) => (e instanceof Error ? e.message : String(e)),
    onFailure: (_message, _attempts, delay) => delays.push(delay),
  });
  created.push(discovery);
  return { discovery, delays };
}

describe('createRetryingDiscovery', () => {
  it('retries with doubling, capped delays until it succeeds', async () => {
    const source = failingTimes(5);
    const { discovery, delays } = make(source.discover);
    expect(discovery.status().state).toBe('discovering');
    discovery.start();
    await vi.waitFor(() => expect(discovery.current()).toBe('config'), { timeout: 2_000, interval: 5 });
    expect(source.calls()).toBe(6);
    expect(delays).toEqual([10, 20, 40, 40, 40]);
    expect(discovery.status()).toMatchObject({ state: 'ready', lastError: null });
  });

  it.each([
    [0, 5],
    [0.5, 8],
    [1, 10],
  ])('jitters between half and all of the ceiling (random %s → %s ms)', async (random, expected) => {
    const { discovery, delays } = make(failingTimes(1).discover, { initialMs: 10, maxMs: 40 }, () => random);
    discovery.start();
    await vi.waitFor(() => expect(delays[0]).toBe(expected), { timeout: 1_000, interval: 2 });
  });

  it('reports unreachable with the latest error and keeps the time the outage began', async () => {
    let now = 1_000;
    const discovery = createRetryingDiscovery({
      discover: failingTimes(100).discover,
      retry: { initialMs: 60_000, maxMs: 60_000 },
      describeError: (e) => (e as Error).message,
      now: () => now,
    });
    created.push(discovery as RetryingDiscovery<string>);
    discovery.start();
    await vi.waitFor(() => expect(discovery.status().state).toBe('unreachable'));
    expect(discovery.status()).toEqual({ state: 'unreachable', since: 1_000, lastError: 'down #1' });
    now = 5_000;
    expect(await discovery.retryNow(1_000)).toBeNull();
    expect(discovery.status()).toEqual({ state: 'unreachable', since: 1_000, lastError: 'down #2' });
  });

  it('never caches a failure: an on-demand retry succeeds as soon as the source does', async () => {
    const source = failingTimes(1);
    const { discovery } = make(source.discover, { initialMs: 60_000, maxMs: 60_000 });
    discovery.start();
    await vi.waitFor(() => expect(discovery.status().state).toBe('unreachable'));
    await new Promise((resolve) => setTimeout(resolve, 260));
    expect(await discovery.retryNow(1_000)).toBe('config');
    expect(source.calls()).toBe(2);
  });

  it('shares one attempt among concurrent callers and spaces on-demand attempts', async () => {
    let release: (value: string) => void = () => {};
    let calls = 0;
    const { discovery } = make(() => {
      calls += 1;
      return new Promise<string>((resolve) => (release = resolve));
    });
    const waits = [discovery.retryNow(1_000), discovery.retryNow(1_000), discovery.retryNow(1_000)];
    expect(calls).toBe(1);
    release('config');
    expect(await Promise.all(waits)).toEqual(['config', 'config', 'config']);

    const failing = failingTimes(100);
    const second = make(failing.discover, { initialMs: 60_000, maxMs: 60_000 }).discovery;
    await second.retryNow(100);
    await second.retryNow(100);
    expect(failing.calls()).toBe(1);
  });

  it('gives up waiting after waitMs while an attempt hangs', async () => {
    const { discovery } = make(() => new Promise<string>(() => {}));
    const started = Date.now();
    expect(await discovery.retryNow(50)).toBeNull();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(discovery.status().state).toBe('discovering');
  });

  it('stops retrying after stop()', async () => {
    const source = failingTimes(100);
    const { discovery } = make(source.discover);
    discovery.start();
    await vi.waitFor(() => expect(source.calls()).toBeGreaterThanOrEqual(2));
    discovery.stop();
    const calls = source.calls();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(source.calls()).toBeLessThanOrEqual(calls + 1);
    expect(await discovery.retryNow(10)).toBeNull();
  });
});
