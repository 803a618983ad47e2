import type { AdapterFactory, AdapterPayload } from 'oidc-provider';

/**
 * Storage for one test provider (oidc-provider's built-in memory adapter is a process-wide
 * LRU shared by every provider instance). Entries expire like the real adapter's.
 */
export function createMemoryStore(): AdapterFactory {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const key = (model: string, id: string): string => `${model}:${id}`;

  function read(k: string): AdapterPayload | undefined {
    const entry = entries.get(k);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(k);
      return undefined;
    }
    return entry.payload;
  }

  function findBy(model: string, field: 'uid' | 'userCode', value: string): AdapterPayload | undefined {
    for (const [k, entry] of entries) {
      if (k.startsWith(`${model}:`) && entry.payload[field] === value) return read(k);
    }
    return undefined;
  }

  return (model) => ({
    async upsert(id, payload, expiresIn) {
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      entries.set(key(model, id), { payload: { ...payload }, expiresAt });
    },
    async find(id) {
      return read(key(model, id));
    },
    async findByUid(uid) {
      return findBy(model, 'uid', uid);
    },
    async findByUserCode(userCode) {
      return findBy(model, 'userCode', userCode);
    },
    async consume(id) {
      const payload = read(key(model, id));
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id) {
      entries.delete(key(model, id));
    },
    async revokeByGrantId(grantId) {
      for (const [k, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(k);
    },
  });
}
