import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createThrottle } from '../../../src/control/index.ts';

describe('createThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the first request at once, inside the call', () => {
    const run = vi.fn();
    createThrottle(run, 100).request();
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('coalesces requests inside the window into one run when it closes', () => {
    const run = vi.fn();
    const throttle = createThrottle(run, 100);
    throttle.request();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(5);
      throttle.request();
    }
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(50);
    expect(run).toHaveBeenCalledTimes(2);
    // That run opened a new window: with nothing requested, nothing more happens.
    vi.advanceTimersByTime(1_000);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('runs once per window under a steady stream instead of waiting for quiet', () => {
    const run = vi.fn();
    const throttle = createThrottle(run, 100);
    for (let t = 0; t < 1_000; t += 10) {
      throttle.request();
      vi.advanceTimersByTime(10);
    }
    expect(run.mock.calls.length).toBeGreaterThanOrEqual(9);
    expect(run.mock.calls.length).toBeLessThanOrEqual(11);
  });

  it('runs immediately again once the window has passed quietly', () => {
    const run = vi.fn();
    const throttle = createThrottle(run, 100);
    throttle.request();
    vi.advanceTimersByTime(150);
    throttle.request();
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('runs every request synchronously with a zero window', () => {
    const run = vi.fn();
    const throttle = createThrottle(run, 0);
    throttle.request();
    throttle.request();
    throttle.request();
    expect(run).toHaveBeenCalledTimes(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reruns once for a request made while running', () => {
    let calls = 0;
    const throttle = createThrottle(() => {
      calls++;
      if (calls === 1) throttle.request();
    }, 0);
    throttle.request();
    expect(calls).toBe(2);
  });

  it('drops a pending run on cancel', () => {
    const run = vi.fn();
    const throttle = createThrottle(run, 100);
    throttle.request();
    throttle.request();
    throttle.cancel();
    vi.advanceTimersByTime(1_000);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('still opens the window when the run throws', () => {
    const run = vi.fn(() => {
      throw new Error('boom');
    });
    const throttle = createThrottle(run, 100);
    expect(() => throttle.request()).toThrow('boom');
    throttle.request();
    expect(run).toHaveBeenCalledTimes(1);
    expect(() => vi.advanceTimersByTime(100)).toThrow('boom');
    expect(run).toHaveBeenCalledTimes(2);
  });
});
