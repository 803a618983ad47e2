import { describe, expect, it } from 'vitest';
import { addressKey, createSignInThrottle, type ThrottleOptions } from '../../../src/idp/throttle.ts';

const MINUTE = 60_000;

function setup(overrides: Partial<Omit<ThrottleOptions, 'now'>> = {}) {
  let time = 1_000_000;
  const throttle = createSignInThrottle({ now: () => time, ...overrides });
  return {
    throttle,
    advance: (ms: number) => {
      time += ms;
    },
    failTimes: (user: string, ip: string, count: number) => {
      let last = throttle.failure(user, ip);
      for (let i = 1; i < count; i += 1) last = throttle.failure(user, ip);
      return last;
    },
  };
}

describe('sign-in throttle', () => {
  it('locks a user name for a minute after five failures', () => {
    const { throttle, failTimes, advance } = setup();
    expect(failTimes('alice', '10.0.0.1', 4).status).toEqual({ locked: false });
    expect(throttle.status('alice', '10.0.0.1')).toEqual({ locked: false });
    expect(throttle.failure('alice', '10.0.0.1').status).toEqual({ locked: true, retryAfterMs: MINUTE, scope: 'user' });
    // From any other address too: the lock is on the name.
    expect(throttle.status('alice', '10.0.0.2')).toEqual({ locked: true, retryAfterMs: MINUTE, scope: 'user' });
    expect(throttle.status('bob', '10.0.0.1')).toEqual({ locked: false });
    advance(MINUTE - 1);
    expect(throttle.status('alice', '10.0.0.2')).toEqual({ locked: true, retryAfterMs: 1, scope: 'user' });
    advance(1);
    expect(throttle.status('alice', '10.0.0.2')).toEqual({ locked: false });
  });

  it('doubles each further lock of the same name, up to 15 minutes', () => {
    const { throttle, failTimes, advance } = setup();
    const locks: number[] = [];
    for (let round = 0; round < 6; round += 1) {
      const outcome = failTimes('alice', '10.0.0.1', 5);
      expect(outcome.status.locked).toBe(true);
      if (outcome.status.locked) locks.push(outcome.status.retryAfterMs);
      advance(outcome.status.locked ? outcome.status.retryAfterMs : 0);
      expect(throttle.status('alice', '10.0.0.1').locked).toBe(false);
    }
    expect(locks).toEqual([1, 2, 4, 8, 15, 15].map((m) => m * MINUTE));
  });

  it('makes every failure slower than the one before, within a ceiling', () => {
    const { throttle } = setup();
    const delays = Array.from({ length: 4 }, () => throttle.failure('carol', '10.0.0.9').delayMs);
    expect(delays).toEqual([250, 500, 1000, 2000]);
    const capped = setup({ maxDelayMs: 600 });
    expect(Array.from({ length: 4 }, () => capped.throttle.failure('carol', '10.0.0.9').delayMs)).toEqual([250, 500, 600, 600]);
  });

  it('locks an address that tries many names, with a higher threshold', () => {
    const { throttle, advance } = setup();
    for (let i = 0; i < 19; i += 1) expect(throttle.failure(`user${i}`, '203.0.113.7').status.locked).toBe(false);
    expect(throttle.failure('user19', '203.0.113.7').status).toEqual({ locked: true, retryAfterMs: MINUTE, scope: 'ip' });
    expect(throttle.status('someone-new', '203.0.113.7')).toEqual({ locked: true, retryAfterMs: MINUTE, scope: 'ip' });
    expect(throttle.status('someone-new', '203.0.113.8')).toEqual({ locked: false });
    advance(MINUTE);
    expect(throttle.status('someone-new', '203.0.113.7')).toEqual({ locked: false });
  });

  it('grows the delay for an address that spreads its guesses over many names', () => {
    const { throttle } = setup();
    const delays = Array.from({ length: 16 }, (_, i) => throttle.failure(`user${i}`, '203.0.113.7').delayMs);
    expect(delays[0]).toBe(250);
    expect(delays[15]).toBeGreaterThan(delays[0]!);
  });

  it('a full sign-in clears the name, but not the address', () => {
    const { throttle, failTimes } = setup();
    failTimes('alice', '10.0.0.1', 4);
    throttle.success('alice');
    expect(throttle.failure('alice', '10.0.0.99').delayMs).toBe(250);
    const ip = setup();
    for (let i = 0; i < 19; i += 1) ip.throttle.failure(`user${i}`, '203.0.113.7');
    ip.throttle.success('user0');
    expect(ip.throttle.failure('user0', '203.0.113.7').status.locked).toBe(true);
  });

  it('forgets a name after an hour of quiet', () => {
    const { throttle, failTimes, advance } = setup();
    failTimes('alice', '10.0.0.1', 5);
    advance(MINUTE);
    failTimes('alice', '10.0.0.1', 5);
    advance(2 * MINUTE + 60 * MINUTE + 1);
    const again = failTimes('alice', '10.0.0.1', 5);
    expect(again.status).toEqual({ locked: true, retryAfterMs: MINUTE, scope: 'user' });
  });

  it('stays bounded when flooded with names', () => {
    const { throttle, failTimes } = setup({ maxEntries: 100 });
    failTimes('victim', '10.0.0.1', 5);
    for (let i = 0; i < 1000; i += 1) throttle.failure(`flood${i}`, `10.1.${i >> 8}.${i & 255}`);
    // Unlocked entries make room first: the flood cannot lift the lock it was meant to get around.
    expect(throttle.status('victim', '10.0.0.2')).toEqual({ locked: true, retryAfterMs: MINUTE, scope: 'user' });
    expect(throttle.failure('flood999', '10.9.9.9').delayMs).toBe(500);
    expect(throttle.failure('flood0', '10.9.9.9').delayMs).toBe(250);
  });
});

describe('throttling key of a client address', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s → %s', (ip, key) => {
    expect(addressKey(ip)).toBe(key);
  });
});
