import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

/**
 * Storage for the built-in provider's short-lived state (interactions, sessions, grants,
 * codes, tokens), owned by one provider instance. Entries expire with the lifetime
 * oidc-provider gives them; the store is bounded, and the oldest entries go first when full.
 * A restart signs people out of the provider itself, not out of Gatehouse's own sessions.
 */

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

export interface MemoryAdapterOptions {
  now?: () => number;
  maxEntries?: number;
}

export function createMemoryAdapter(options: MemoryAdapterOptions = {}): AdapterFactory {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 50_000;
  const entries = new Map<string, Entry>();
  /** `model:uid` and `model:userCode` → entry key, for the lookups oidc-provider does by those. */
  const index = new Map<string, string>();
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

  return (model: string): Adapter => {
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
        remove(key);
        entries.set(key, { payload: { ...payload }, expiresAt: typeof expiresIn === 'number' ? now() + expiresIn * 1000 : Number.POSITIVE_INFINITY });
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
        for (const [key, entry] of entries) if (entry.payload.grantId === grantId) remove(key);
      },
    };
  };
}
