import { randomBytes } from 'node:crypto';
import { GatehouseError } from '../errors.ts';
import { MAP_NAME, type ExpiringMap, type MapOptions } from './expiring-map.ts';
import { createMemoryMap, type MemoryMap } from './memory-map.ts';
import type { RedisConnection } from './redis-connection.ts';

/**
 * ExpiringMaps shared by every replica through Redis. Each replica keeps a full copy in memory,
 * so reads (a revocation check on every signed-in request) never wait on Redis. Every change
 * is written to Redis (one key per entry, expiring with it) and published; the other replicas
 * apply it to their copies as it arrives, within milliseconds. After Redis was away, the changes
 * made meanwhile are written first, then every copy is reloaded from Redis (a change published
 * while a replica was cut off is not lost).
 *
 * `add` claims a key for every replica: the write is `SET … NX`, and `flush()` rejects when
 * another replica had claimed it first (a sign-in link used twice), or when Redis is away.
 */

export interface RedisMaps {
  map<V>(name: string, options: MapOptions<V>): ExpiringMap<V>;
  /** Loads every map opened so far from Redis (at start, and after Redis comes back). */
  resync(): Promise<void>;
  close(): Promise<void>;
}

export interface RedisMapsOptions {
  connection: RedisConnection;
  /** Key prefix, e.g. `gatehouse:`. */
  prefix: string;
  now?: () => number;
  onError?: (error: GatehouseError) => void;
}

/** One change to write; `outcome` says what became of it (a claim may find the key taken). */
type Write = { kind: 'set' | 'add'; key: string; value: unknown; expiresAt: number } | { kind: 'delete'; key: string };
type Op = Write & { outcome: 'waiting' | 'stored' | 'taken' };

interface Change {
  /** The replica that made it; a replica ignores its own. */
  o: string;
  m: string;
  k: string;
  v?: unknown;
  e?: number;
}

/** Changes waiting while Redis is away, per map; beyond this the oldest are dropped (and the reload after reconnecting sets things straight). */
const MAX_PENDING = 50_000;

export async function openRedisMaps(options: RedisMapsOptions): Promise<RedisMaps> {
  const { connection, prefix } = options;
  const redis = connection.commands;
  const now = options.now ?? Date.now;
  const origin = randomBytes(9).toString('base64url');
  const channel = `${prefix}changes`;
  const maps = new Map<string, SharedMap>();

  interface SharedMap {
    local: MemoryMap<unknown>;
    apply(change: Change): void;
    reload(): Promise<void>;
    drain(): Promise<void>;
  }

  const entryKey = (name: string, key: string) => `${prefix}m:${name}:${key}`;

  function open<V>(name: string, mapOptions: MapOptions<V>): ExpiringMap<V> {
    if (!MAP_NAME.test(name)) throw new GatehouseError('INTERNAL', `state map name "${name}" is not plain lowercase`);
    const pending: Op[] = [];
    let draining: Promise<void> = Promise.resolve();
    let scheduled = false;
    /** Why the last write failed, while changes wait for Redis. */
    let lastFailure: GatehouseError | undefined;
    /** Keys changed by other replicas while a reload runs: newer than what the reload read. */
    const heardDuringReloads = new Set<Set<string>>();

    const fail = (error: GatehouseError) => {
      lastFailure = error;
      options.onError?.(error);
    };

    const drain = (): Promise<void> => {
      scheduled = false;
      draining = draining.then(async () => {
        while (pending.length > 0) {
          const batch = pending.slice(0, 500);
          const pipeline = redis.pipeline();
          for (const op of batch) {
            const key = entryKey(name, op.key);
            if (op.kind === 'delete') {
              pipeline.del(key);
              pipeline.publish(channel, JSON.stringify({ o: origin, m: name, k: op.key } satisfies Change));
            } else {
              const ttl = Math.max(1, Math.ceil(op.expiresAt - now()));
              const stored = JSON.stringify({ v: op.value, e: op.expiresAt });
              if (op.kind === 'add') pipeline.set(key, stored, 'PX', ttl, 'NX');
              else pipeline.set(key, stored, 'PX', ttl);
              pipeline.publish(channel, JSON.stringify({ o: origin, m: name, k: op.key, v: op.value, e: op.expiresAt } satisfies Change));
            }
          }
          let results: Array<[Error | null, unknown]> | null;
          try {
            results = await pipeline.exec();
          } catch (error) {
            // Kept for when Redis is back (see resync); flush() reports it meanwhile.
            fail(new GatehouseError('STATE_UNAVAILABLE', `shared state: cannot save ${name} to Redis (${(error as Error).message})`, { cause: error }));
            return;
          }
          const firstError = results?.find(([error]) => error !== null)?.[0];
          if (results === null || firstError) {
            fail(new GatehouseError('STATE_UNAVAILABLE', `shared state: cannot save ${name} to Redis (${firstError?.message ?? 'no answer'})`));
            return;
          }
          lastFailure = undefined;
          pending.splice(0, batch.length);
          batch.forEach((op, index) => {
            op.outcome = op.kind === 'add' && results![index * 2]![1] === null ? 'taken' : 'stored';
          });
        }
      });
      return draining;
    };

    const push = (change: Write) => {
      const op = { ...change, outcome: 'waiting' } as Op;
      if (pending.length >= MAX_PENDING) pending.shift();
      pending.push(op);
      if (!scheduled && connection.status().state === 'ready') {
        scheduled = true;
        queueMicrotask(() => void drain());
      }
    };

    const local = createMemoryMap<V>({
      maxEntries: mapOptions.maxEntries,
      now,
      onChange: () => undefined,
      // Judges exactly the changes made before this call, so one request's claim can never be
      // reported to (or hidden from) another's.
      async flush() {
        const mine = [...pending];
        await drain();
        if (mine.some((op) => op.outcome === 'taken')) throw new GatehouseError('STATE_CONFLICT', `shared state: ${name} entry was already taken by another replica`);
        if (mine.some((op) => op.outcome === 'waiting')) {
          throw lastFailure ?? new GatehouseError('STATE_UNAVAILABLE', `shared state: cannot save ${name} to Redis (not connected)`);
        }
      },
    });

    // The changes each local write makes, captured per key (the memory map stays the one copy).
    const shared: ExpiringMap<V> = {
      get: (key) => local.get(key),
      has: (key) => local.has(key),
      set(key, value, expiresAt) {
        local.set(key, value, expiresAt);
        push(expiresAt <= now() ? { kind: 'delete', key } : { kind: 'set', key, value, expiresAt });
      },
      add(key, value, expiresAt) {
        const added = local.add(key, value, expiresAt);
        if (added) push({ kind: 'add', key, value, expiresAt });
        return added;
      },
      delete(key) {
        local.delete(key);
        push({ kind: 'delete', key });
      },
      entries: () => local.entries(),
      get size() {
        return local.size;
      },
      flush: () => local.flush(),
    };

    maps.set(name, {
      local: local as MemoryMap<unknown>,
      apply(change) {
        for (const heard of heardDuringReloads) heard.add(change.k);
        if (change.e === undefined) return void local.delete(change.k);
        const value = mapOptions.parse(change.v);
        if (value !== undefined) local.set(change.k, value, change.e);
      },
      async reload() {
        const heard = new Set<string>();
        heardDuringReloads.add(heard);
        try {
          await reloadFromRedis(heard);
        } finally {
          heardDuringReloads.delete(heard);
        }
      },
      drain,
    });
    async function reloadFromRedis(heard: Set<string>): Promise<void> {
      const loaded: Array<[string, { value: V; expiresAt: number }]> = [];
      const start = entryKey(name, '');
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(start)}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        const values = await redis.mget(...keys);
        keys.forEach((key, index) => {
          const text = values[index];
          if (text === null || text === undefined) return;
          const stored = parseStored(text);
          const value = stored === undefined ? undefined : mapOptions.parse(stored.v);
          if (stored !== undefined && value !== undefined) loaded.push([key.slice(start.length), { value, expiresAt: stored.e }]);
        });
      } while (cursor !== '0');
      // Changes still waiting to be written, and those heard meanwhile, stay as they are here.
      const keep = new Set([...pending.map((op) => op.key), ...heard]);
      for (const [key] of [...local.entries()]) if (!keep.has(key)) local.delete(key);
      local.load(loaded.filter(([key]) => !keep.has(key)));
    }
    // The map handed out is `shared`; `maps` keeps the memory map for pushes from others.
    sharedByName.set(name, shared as ExpiringMap<unknown>);
    return shared;
  }

  const sharedByName = new Map<string, ExpiringMap<unknown>>();

  connection.subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    let change: Change;
    try {
      change = JSON.parse(text) as Change;
    } catch {
      return;
    }
    if (change.o === origin || typeof change.m !== 'string' || typeof change.k !== 'string') return;
    maps.get(change.m)?.apply(change);
  });
  await connection.subscriber.subscribe(channel);

  async function resync(): Promise<void> {
    for (const map of maps.values()) {
      await map.drain();
      await map.reload();
    }
  }

  // Back from an outage. Commands: write what waited, then reload. Subscriber: changes published
  // while it was away never arrived, so reload once the subscription is confirmed. Every change
  // is then either in Redis before the reload reads it, or published after the subscription
  // holds (the SET and its PUBLISH go in order), so no sign-out is missed.
  connection.onReconnect((which) => {
    const after = which === 'subscriber' ? connection.subscriber.subscribe(channel) : Promise.resolve();
    after
      .then(resync)
      .catch((error: unknown) => options.onError?.(new GatehouseError('STATE_UNAVAILABLE', `shared state: reload after reconnecting failed (${(error as Error).message})`, { cause: error })));
  });

  return {
    map<V>(name: string, mapOptions: MapOptions<V>) {
      return (sharedByName.get(name) as ExpiringMap<V> | undefined) ?? open(name, mapOptions);
    },
    resync,
    async close() {
      await Promise.allSettled([...maps.values()].map((map) => map.drain()));
    },
  };
}

function parseStored(text: string): { v: unknown; e: number } | undefined {
  try {
    const stored = JSON.parse(text) as { v?: unknown; e?: unknown } | null;
    return stored !== null && typeof stored === 'object' && typeof stored.e === 'number' ? { v: stored.v, e: stored.e } : undefined;
  } catch {
    return undefined;
  }
}

/** Map names are plain (MAP_NAME), but the prefix is the operator's: match it literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
