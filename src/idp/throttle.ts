import { openMemoryState, type ExpiringMap, type StateStore } from '../state/index.ts';

/**
 * Sign-in throttling, per account and per client IP. Each failure makes the next answer
 * slower; after `threshold` failures the key is locked for `lockMs`, and each further lock of
 * the same key lasts twice as long, up to `maxLockMs`. A key that stays quiet for `forgetMs`
 * starts over. Unknown user names are throttled exactly like real ones, so a lock tells an
 * attacker nothing about which names exist. The counters live in two state maps, so a
 * restart lifts no lock; the clock is injected.
 */

export interface ThrottlePolicy {
  threshold: number;
  lockMs: number;
  maxLockMs: number;
}

export interface ThrottleOptions {
  now: () => number;
  perUser: ThrottlePolicy;
  perIp: ThrottlePolicy;
  /** Delay after the first failure; doubles per failure up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  forgetMs: number;
  /** Bound on remembered keys per kind; the oldest are dropped first. */
  maxEntries: number;
}

/** Where the counters are kept: one map per kind of key (default: in memory). */
export interface ThrottleMaps {
  users: ExpiringMap<ThrottleEntry>;
  ips: ExpiringMap<ThrottleEntry>;
}

export const DEFAULT_THROTTLE: Omit<ThrottleOptions, 'now'> = Object.freeze({
  perUser: { threshold: 5, lockMs: 60_000, maxLockMs: 15 * 60_000 },
  perIp: { threshold: 20, lockMs: 60_000, maxLockMs: 15 * 60_000 },
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  forgetMs: 60 * 60_000,
  maxEntries: 10_000,
});

export type ThrottleStatus = { locked: false } | { locked: true; retryAfterMs: number; scope: 'user' | 'ip' };

export interface FailureOutcome {
  /** How long to wait before answering this failed attempt. */
  delayMs: number;
  /** Set when this failure locked the user or the IP. */
  status: ThrottleStatus;
}

export interface SignInThrottle {
  status(user: string, ip: string): ThrottleStatus;
  failure(user: string, ip: string): FailureOutcome;
  /** A complete sign-in clears the user's failures; the IP's stay, so one good account cannot reset an attack. */
  success(user: string): void;
}

export interface ThrottleEntry {
  failures: number;
  locks: number;
  lockedUntil: number;
  lastFailure: number;
}

type Entry = ThrottleEntry;
type Counters = ExpiringMap<Entry>;

/** Checks a stored counter (state files are read back at start). */
export function parseThrottleEntry(stored: unknown): ThrottleEntry | undefined {
  if (stored === null || typeof stored !== 'object') return undefined;
  const { failures, locks, lockedUntil, lastFailure } = stored as Record<string, unknown>;
  const numbers = [failures, locks, lockedUntil, lastFailure];
  if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) return undefined;
  return { failures, locks, lockedUntil, lastFailure } as ThrottleEntry;
}

/** The two maps in a state store; the store's own bound sits above the throttle's, which evicts first. */
export function throttleMaps(state: StateStore, maxEntries = DEFAULT_THROTTLE.maxEntries): ThrottleMaps {
  // Failures come in bursts and each save writes the whole map: gather a second's worth (a stop saves the rest).
  const options = { maxEntries: maxEntries + 1, parse: parseThrottleEntry, writeDelayMs: 1_000 };
  return { users: state.map('sign-in-accounts', options), ips: state.map('sign-in-addresses', options) };
}

export function createSignInThrottle(options: Partial<ThrottleOptions> & { now: () => number; maps?: ThrottleMaps }): SignInThrottle {
  const settings: ThrottleOptions = { ...DEFAULT_THROTTLE, ...options };
  const { users, ips } = options.maps ?? throttleMaps(openMemoryState({ now: options.now }), settings.maxEntries);

  function current(map: Counters, key: string, now: number): Entry | undefined {
    const entry = map.get(key);
    if (entry !== undefined && entry.lockedUntil <= now && now - entry.lastFailure > settings.forgetMs) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stored until it would be forgotten; a stored copy, so changes are saved. */
  function store(map: Counters, key: string, entry: Entry): void {
    map.set(key, { ...entry }, Math.max(entry.lockedUntil, entry.lastFailure + settings.forgetMs) + 1);
  }

  function remaining(map: Counters, key: string, now: number): number {
    const entry = current(map, key, now);
    return entry === undefined ? 0 : Math.max(0, entry.lockedUntil - now);
  }

  function statusAt(user: string, ip: string, now: number): ThrottleStatus {
    const userWait = remaining(users, user, now);
    const ipWait = remaining(ips, ip, now);
    if (userWait === 0 && ipWait === 0) return { locked: false };
    return userWait >= ipWait ? { locked: true, retryAfterMs: userWait, scope: 'user' } : { locked: true, retryAfterMs: ipWait, scope: 'ip' };
  }

  function fail(map: Counters, key: string, policy: ThrottlePolicy, now: number): number {
    let entry = current(map, key, now);
    if (entry === undefined) {
      if (map.size >= settings.maxEntries) evict(map, now);
      entry = { failures: 0, locks: 0, lockedUntil: 0, lastFailure: now };
    } else {
      entry = { ...entry };
    }
    entry.failures += 1;
    entry.lastFailure = now;
    const failures = entry.failures;
    if (entry.failures >= policy.threshold) {
      entry.lockedUntil = now + Math.min(policy.lockMs * 2 ** entry.locks, policy.maxLockMs);
      entry.locks += 1;
      entry.failures = 0;
    }
    store(map, key, entry);
    return failures;
  }

  /** Makes room: forgotten entries first, then the oldest unlocked ones, so a flood of names cannot lift a lock. */
  function evict(map: Counters, now: number): void {
    for (const [key] of [...map.entries()]) current(map, key, now);
    for (const [key, entry] of [...map.entries()]) {
      if (map.size < settings.maxEntries) return;
      if (entry.lockedUntil <= now) map.delete(key);
    }
    while (map.size >= settings.maxEntries) {
      const oldest = map.entries().next();
      if (oldest.done === true) break;
      map.delete(oldest.value[0]);
    }
  }

  return {
    status: (user, ip) => statusAt(user, ip, settings.now()),
    failure(user, ip) {
      const now = settings.now();
      const userFailures = fail(users, user, settings.perUser, now);
      const ipFailures = fail(ips, ip, settings.perIp, now);
      const worst = Math.max(userFailures, Math.ceil((ipFailures * settings.perUser.threshold) / settings.perIp.threshold));
      const delayMs = Math.min(settings.baseDelayMs * 2 ** Math.max(0, worst - 1), settings.maxDelayMs);
      return { delayMs, status: statusAt(user, ip, now) };
    },
    success(user) {
      users.delete(user);
    },
  };
}

/**
 * The throttling key of a client address: IPv4 as it is, IPv6 by its /64, since one home or
 * server usually holds a whole /64 and could otherwise rotate through addresses.
 */
export function addressKey(ip: string): string {
  const address = ip.split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped !== null) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => (Number.parseInt(group, 16) || 0).toString(16)).join(':')}::/64`;
}
