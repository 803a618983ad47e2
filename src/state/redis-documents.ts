import type { Redis } from 'ioredis';

/**
 * Short-lived documents kept in Redis for every replica, read and written straight through
 * (the built-in provider's sessions, grants, interactions and codes: the sign-in path, never
 * the signed-in one). Each document expires with its own lifetime; lookups by a second key
 * (`uid`, `userCode`) are index keys expiring with it. Documents can be grouped (a grant's
 * tokens, an account's sessions) to be found or ended together, and bounded per owner (the
 * interactions one client address may hold at once: its oldest goes first).
 */
export interface SharedDocuments {
  put(doc: DocumentWrite): Promise<void>;
  get(kind: string, id: string): Promise<Record<string, unknown> | undefined>;
  /** The document whose `field` index is `value`. */
  find(kind: string, field: string, value: string): Promise<Record<string, unknown> | undefined>;
  /** Marks it used (`consumed`, seconds), once: true when this call did. */
  consume(kind: string, id: string, atSeconds: number): Promise<boolean>;
  destroy(kind: string, id: string): Promise<void>;
  /** Every document in the group, as `kind:id` references. */
  members(group: string): Promise<Array<{ kind: string; id: string }>>;
  /** Destroys every document in the group, and the group. */
  destroyGroup(group: string): Promise<void>;
}

export interface DocumentWrite {
  kind: string;
  id: string;
  payload: Record<string, unknown>;
  /** Seconds; unset keeps it until it is destroyed. */
  ttlSeconds: number | undefined;
  /** Second keys to find it by, e.g. `{ uid }`. */
  indexes?: Record<string, string>;
  /** Groups it belongs to (e.g. `grant:<id>`, `account:<sub>`). */
  groups?: string[];
  /** Bounds how many documents of this kind one owner holds (its oldest go first), and all owners together (the soonest to expire go). */
  owner?: { name: string; max: number; maxTotal: number };
}

/**
 * Oldest-first eviction and the write itself in one step, so two replicas cannot both stay under
 * a bound: first the owner's own bound (its oldest go), then the total over all owners (the
 * soonest to expire go), which keeps Redis's memory bounded against a flood from many addresses.
 * KEYS: the owner's set, every owner's set; ARGV: now, id, per-owner max, ttl ms, doc key prefix, total max.
 */
const PUT_OWNED = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if over > 0 then
  local gone = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #gone, 2 do
    redis.call('DEL', ARGV[5] .. gone[i])
    redis.call('ZREM', KEYS[2], gone[i])
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
local total = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if total > 0 then
  local gone = redis.call('ZPOPMIN', KEYS[2], total)
  for i = 1, #gone, 2 do redis.call('DEL', ARGV[5] .. gone[i]) end
end
return over
`;

export function createRedisDocuments(redis: Redis, prefix: string, now: () => number = Date.now): SharedDocuments {
  const docKey = (kind: string, id: string) => `${prefix}doc:${kind}:${id}`;
  const indexKey = (kind: string, field: string, value: string) => `${prefix}idx:${kind}:${field}:${value}`;
  const groupKey = (group: string) => `${prefix}group:${group}`;
  const usedKey = (kind: string, id: string) => `${prefix}used:${kind}:${id}`;

  async function read(kind: string, id: string): Promise<Record<string, unknown> | undefined> {
    const [text, used] = await redis.mget(docKey(kind, id), usedKey(kind, id));
    if (text === null || text === undefined) return undefined;
    const payload = JSON.parse(text) as Record<string, unknown>;
    delete payload[INDEXES];
    if (used !== null && used !== undefined) payload.consumed = Number(used);
    return payload;
  }

  async function destroy(kind: string, id: string): Promise<void> {
    const text = await redis.get(docKey(kind, id));
    const multi = redis.multi().del(docKey(kind, id), usedKey(kind, id));
    if (text !== null) {
      const indexes = (JSON.parse(text) as { [INDEXES]?: Record<string, string> })[INDEXES] ?? {};
      for (const [field, value] of Object.entries(indexes)) multi.del(indexKey(kind, field, value));
    }
    await multi.exec();
  }

  return {
    async put({ kind, id, payload, ttlSeconds, indexes = {}, groups = [], owner }) {
      const key = docKey(kind, id);
      const ttlMs = ttlSeconds === undefined ? undefined : Math.max(1, Math.round(ttlSeconds * 1000));
      const text = JSON.stringify({ ...payload, [INDEXES]: indexes });
      const multi = redis.multi();
      if (ttlMs === undefined) multi.set(key, text);
      else multi.set(key, text, 'PX', ttlMs);
      for (const [field, value] of Object.entries(indexes)) {
        if (ttlMs === undefined) multi.set(indexKey(kind, field, value), id);
        else multi.set(indexKey(kind, field, value), id, 'PX', ttlMs);
      }
      for (const group of groups) {
        multi.sadd(groupKey(group), `${kind}:${id}`);
        // A group lives as long as its longest-lived member (the expiry only ever grows).
        if (ttlMs === undefined) {
          multi.persist(groupKey(group));
        } else {
          multi.pexpire(groupKey(group), ttlMs, 'NX');
          multi.pexpire(groupKey(group), ttlMs, 'GT');
        }
      }
      if (owner !== undefined) {
        multi.eval(PUT_OWNED, 2, `${prefix}owner:${kind}:${owner.name}`, `${prefix}owners:${kind}`, now(), id, owner.max, ttlMs ?? 3_600_000, `${prefix}doc:${kind}:`, owner.maxTotal);
      }
      await multi.exec();
    },
    get: read,
    async find(kind, field, value) {
      const id = await redis.get(indexKey(kind, field, value));
      return id === null ? undefined : read(kind, id);
    },
    async consume(kind, id, atSeconds) {
      const ttl = await redis.pttl(docKey(kind, id));
      if (ttl === -2) return false;
      const set = ttl > 0 ? await redis.set(usedKey(kind, id), String(atSeconds), 'PX', ttl, 'NX') : await redis.set(usedKey(kind, id), String(atSeconds), 'NX');
      return set === 'OK';
    },
    destroy,
    async members(group) {
      const members = await redis.smembers(groupKey(group));
      return members.map((member) => {
        const at = member.indexOf(':');
        return { kind: member.slice(0, at), id: member.slice(at + 1) };
      });
    },
    async destroyGroup(group) {
      const members = await redis.smembers(groupKey(group));
      for (const member of members) {
        const at = member.indexOf(':');
        await destroy(member.slice(0, at), member.slice(at + 1));
      }
      await redis.del(groupKey(group));
    },
  };
}

/** Where a stored document remembers its index keys, to remove them with it. */
const INDEXES = '__gatehouseIndexes';
