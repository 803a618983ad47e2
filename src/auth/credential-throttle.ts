import type { ExpiringMap } from '../state/index.ts';

/**
 * Brute-force protection for credentials sent with each request (HTTP Basic app passwords,
 * bearer tokens): failures are counted per client address and per account named, in a fixed
 * window; at the limit, that address or account gets 429 until the window ends, without any
 * password being checked. Successes never reset an address's count, so a valid password in
 * one hand cannot shield guessing with the other. Kept in state/, so a restart does not reset it.
 */

export interface CredentialThrottleOptions {
  store: ExpiringMap<FailureCount>;
  now: () => number;
  /** Failures per address in a window; default 20. */
  maxPerAddress?: number;
  /** Failures per account in a window; default 10. */
  maxPerAccount?: number;
  /** Default 15 minutes. */
  windowMs?: number;
}

export interface FailureCount {
  count: number;
  /** End of the window, milliseconds since the epoch. */
  until: number;
}

export type ThrottleStatus = { locked: false } | { locked: true; retryAfterMs: number };

export interface CredentialThrottle {
  status(address: string, account: string | null): ThrottleStatus;
  failure(address: string, account: string | null): void;
}

export function createCredentialThrottle(options: CredentialThrottleOptions): CredentialThrottle {
  const { store, now } = options;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const limits = { address: options.maxPerAddress ?? 20, account: options.maxPerAccount ?? 10 };
  const keys = (address: string, account: string | null): Array<[string, number]> => [
    [`ip:${address}`, limits.address],
    ...(account === null ? [] : ([[`account:${account.trim().toLowerCase().slice(0, 256)}`, limits.account]] as Array<[string, number]>)),
  ];

  return {
    status(address, account) {
      let retryAfterMs = 0;
      for (const [key, limit] of keys(address, account)) {
        const entry = store.get(key);
        if (entry !== undefined && entry.count >= limit && entry.until > now()) retryAfterMs = Math.max(retryAfterMs, entry.until - now());
      }
      return retryAfterMs > 0 ? { locked: true, retryAfterMs } : { locked: false };
    },
    failure(address, account) {
      for (const [key] of keys(address, account)) {
        const entry = store.get(key);
        const live = entry !== undefined && entry.until > now();
        const next = live ? { count: entry.count + 1, until: entry.until } : { count: 1, until: now() + windowMs };
        store.set(key, next, next.until);
      }
    },
  };
}

export function parseFailureCount(stored: unknown): FailureCount | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { count, until } = stored as Record<string, unknown>;
  return typeof count === 'number' && typeof until === 'number' ? { count, until } : undefined;
}
