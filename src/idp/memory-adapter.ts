import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

/**
 * Storage for the built-in provider's short-lived state (interactions, sessions, grants,
 * codes, tokens), owned by one provider instance. Entries expire with the lifetime
 * oidc-provider gives them; the store is bounded, and the oldest entries go first when full.
 * A restart signs people out of the provider itself, not out of Gatehouse's own sessions.
 *
 * Interactions are what anyone can create without signing in (one per hit on the
 * authorization endpoint), so they are bounded per client address and in total. A client over
 * its share loses its own oldest interaction; when the total is reached, the client holding the
 * most loses its oldest. A flood from one address therefore evicts only itself, never another
 * user's sign-in in progress.
 */

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
  /** The client address that started it (interactions only). */
  owner?: string;
}

export interface MemoryAdapterOptions {
  now?: () => number;
  maxEntries?: number;
  /** Interactions kept at once, over all clients. */
  maxInteractions?: number;
  /** Interactions kept at once for one client address. */
  maxInteractionsPerClient?: number;
  /** The client address of the request being served (set by the provider around each request). */
  clientOf?: () => string | undefined;
}

export interface MemoryStore {
  readonly adapter: AdapterFactory;
  /** Stored entries, and interactions among them (tests and metrics). */
  counts(): { entries: number; interactions: number };
  /** Ends the provider sessions of this account begun at this time (seconds; null: all of them), with their grants and tokens; returns how many. */
  endSession(accountId: string, loginTs: number | null): number;
}

const INTERACTION = 'Interaction';

export function createMemoryStore(options: MemoryAdapterOptions = {}): MemoryStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 50_000;
  const maxInteractions = options.maxInteractions ?? 10_000;
  const perClient = options.maxInteractionsPerClient ?? 20;
  const entries = new Map<string, Entry>();
  /** `model:uid` and `model:userCode` → entry key, for the lookups oidc-provider does by those. */
  const index = new Map<string, string>();
  /** Client address → its interaction keys, oldest first. */
  const owned = new Map<string, Set<string>>();
  let interactions = 0;
  let writesSinceSweep = 0;

  function read(key: string): AdapterPayload | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      remove(key);
      return undefined;
    }
    return entry.payload;
  }

  function remove(key: string): void {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    const model = key.slice(0, key.indexOf(':'));
    if (typeof entry.payload.uid === 'string') index.delete(`${model}:uid:${entry.payload.uid}`);
    if (typeof entry.payload.userCode === 'string') index.delete(`${model}:userCode:${entry.payload.userCode}`);
    if (model === INTERACTION) {
      interactions -= 1;
      const keys = entry.owner === undefined ? undefined : owned.get(entry.owner);
      keys?.delete(key);
      if (keys?.size === 0) owned.delete(entry.owner!);
    }
  }

  function sweep(): void {
    const time = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= time) remove(key);
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done === true) break;
      remove(oldest.value);
    }
  }

  /** Room for one more interaction of `owner`, taken from the owner itself, else from the biggest holder. */
  function admitInteraction(owner: string): void {
    const mine = owned.get(owner);
    if (mine !== undefined && mine.size >= perClient) remove(mine.values().next().value!);
    if (interactions < maxInteractions) return;
    let biggest: Set<string> | undefined;
    for (const keys of owned.values()) if (biggest === undefined || keys.size > biggest.size) biggest = keys;
    const victim = biggest?.values().next();
    if (victim !== undefined && victim.done !== true) remove(victim.value);
  }

  const adapter: AdapterFactory = (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    const byIndex = (field: 'uid' | 'userCode', value: string) => {
      const key = index.get(`${model}:${field}:${value}`);
      return key === undefined ? undefined : read(key);
    };
    return {
      async upsert(id, payload, expiresIn) {
        writesSinceSweep += 1;
        if (entries.size >= maxEntries || writesSinceSweep >= 1000) {
          writesSinceSweep = 0;
          sweep();
        }
        const key = keyOf(id);
        const previous = entries.get(key);
        let owner = previous?.owner;
        if (previous === undefined && model === INTERACTION) {
          owner = options.clientOf?.() ?? 'unknown';
          admitInteraction(owner);
        }
        remove(key);
        const entry: Entry = { payload: { ...payload }, expiresAt: typeof expiresIn === 'number' ? now() + expiresIn * 1000 : Number.POSITIVE_INFINITY };
        if (model === INTERACTION) {
          entry.owner = owner!;
          interactions += 1;
          const keys = owned.get(owner!) ?? new Set<string>();
          keys.add(key);
          owned.set(owner!, keys);
        }
        entries.set(key, entry);
        if (typeof payload.uid === 'string') index.set(`${model}:uid:${payload.uid}`, key);
        if (typeof payload.userCode === 'string') index.set(`${model}:userCode:${payload.userCode}`, key);
      },
      async find(id) {
        return read(keyOf(id));
      },
      async findByUid(uid) {
        return byIndex('uid', uid);
      },
      async findByUserCode(userCode) {
        return byIndex('userCode', userCode);
      },
      async consume(id) {
        const payload = read(keyOf(id));
        if (payload !== undefined) payload.consumed = Math.floor(now() / 1000);
      },
      async destroy(id) {
        remove(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        revokeGrant(grantId);
      },
    };
  };

  function revokeGrant(grantId: string): void {
    for (const [key, entry] of entries) if (entry.payload.grantId === grantId) remove(key);
    remove(`Grant:${grantId}`);
  }

  return {
    adapter,
    counts: () => ({ entries: entries.size, interactions }),
    endSession(accountId, loginTs) {
      let ended = 0;
      for (const [key, entry] of [...entries]) {
        if (!key.startsWith('Session:')) continue;
        const session = entry.payload as { accountId?: unknown; loginTs?: unknown; authorizations?: Record<string, { grantId?: unknown }> };
        if (session.accountId !== accountId || (loginTs !== null && session.loginTs !== loginTs)) continue;
        for (const { grantId } of Object.values(session.authorizations ?? {})) if (typeof grantId === 'string') revokeGrant(grantId);
        remove(key);
        ended += 1;
      }
      return ended;
    },
  };
}
