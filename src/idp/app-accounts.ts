import type { Identity } from '../policy/index.ts';

/**
 * What the provider for apps knows about a user: the identity of their Gatehouse session as it
 * was when they last passed an app's interaction. The token and UserInfo endpoints run without
 * the user's cookies, so the claims are kept here, per subject, for as long as the tokens
 * issued from them may be used. Bounded: the oldest subject goes first.
 */
export interface AppAccounts {
  remember(identity: Identity): void;
  find(sub: string): Identity | undefined;
}

export function createAppAccounts(options: { ttlMs: number; maxEntries?: number; now: () => number }): AppAccounts {
  const max = options.maxEntries ?? 10_000;
  const entries = new Map<string, { identity: Identity; expiresAt: number }>();
  return {
    remember(identity) {
      entries.delete(identity.sub);
      if (entries.size >= max) entries.delete(entries.keys().next().value!);
      entries.set(identity.sub, { identity, expiresAt: options.now() + options.ttlMs });
    },
    find(sub) {
      const entry = entries.get(sub);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= options.now()) {
        entries.delete(sub);
        return undefined;
      }
      return entry.identity;
    },
  };
}
