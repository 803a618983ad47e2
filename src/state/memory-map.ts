import type { ExpiringMap } from './expiring-map.ts';

/**
 * The in-memory half of every ExpiringMap: entries with their expiry, bounded. When full, the
 * expired entries go first, then those that expire soonest, so a flood of new keys cannot
 * push out long-lived ones (a long lock) before short-lived ones. `onChange` is told about
 * every change so a backing store can save it.
 */
export interface Stored<V> {
  value: V;
  expiresAt: number;
}

export interface MemoryMap<V> extends ExpiringMap<V> {
  /** Every live entry with its expiry, for saving. */
  snapshot(): Array<[string, Stored<V>]>;
  /** Loads without reporting changes. */
  load(entries: Iterable<[string, Stored<V>]>): void;
}

export function createMemoryMap<V>(options: { maxEntries: number; now: () => number; onChange: () => void; flush: () => Promise<void> }): MemoryMap<V> {
  const { now, onChange } = options;
  const entries = new Map<string, Stored<V>>();

  function live(key: string): Stored<V> | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function makeRoom(): void {
    const time = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= time) entries.delete(key);
    if (entries.size < options.maxEntries) return;
    const soonest = [...entries].sort((a, b) => a[1].expiresAt - b[1].expiresAt);
    // Drop a tenth at once, so a full map does not sort on every insertion.
    const drop = Math.max(1, entries.size - options.maxEntries + 1, Math.floor(options.maxEntries / 10));
    for (const [key] of soonest.slice(0, drop)) entries.delete(key);
  }

  function put(key: string, value: V, expiresAt: number): void {
    if (!entries.has(key) && entries.size >= options.maxEntries) makeRoom();
    entries.set(key, { value, expiresAt });
    onChange();
  }

  function* liveEntries(): IterableIterator<[string, V]> {
    const time = now();
    for (const [key, entry] of entries) if (entry.expiresAt > time) yield [key, entry.value];
  }

  return {
    get: (key) => live(key)?.value,
    has: (key) => live(key) !== undefined,
    set(key, value, expiresAt) {
      if (expiresAt <= now()) {
        if (entries.delete(key)) onChange();
        return;
      }
      put(key, value, expiresAt);
    },
    add(key, value, expiresAt) {
      if (live(key) !== undefined || expiresAt <= now()) return false;
      put(key, value, expiresAt);
      return true;
    },
    delete(key) {
      if (entries.delete(key)) onChange();
    },
    entries: liveEntries,
    get size() {
      return entries.size;
    },
    flush: options.flush,
    snapshot() {
      const time = now();
      return [...entries].filter(([, entry]) => entry.expiresAt > time);
    },
    load(loaded) {
      const time = now();
      for (const [key, entry] of loaded) if (entry.expiresAt > time) entries.set(key, entry);
      if (entries.size > options.maxEntries) makeRoom();
    },
  };
}
