/**
 * What must outlive a request and a restart: small maps whose every entry carries its own
 * expiry (used handoff ids, sign-in failure counters). Reads and writes are synchronous on an
 * in-memory copy, so the request path never waits on storage; `flush()` resolves once every
 * change so far is stored, for the few answers that must not go out before that (a used
 * handoff). Each map is bounded: expired entries go first, then the ones closest to expiry.
 *
 * A Redis-backed store can implement the same interface later (memory copy + pushed changes).
 */
export interface ExpiringMap<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  /** `expiresAt` in milliseconds since the epoch; an entry already expired is not stored. */
  set(key: string, value: V, expiresAt: number): void;
  /** Stores only when the key is absent (or expired); true when this call stored it. */
  add(key: string, value: V, expiresAt: number): boolean;
  delete(key: string): void;
  /** Live entries, oldest insertion first. */
  entries(): IterableIterator<[string, V]>;
  readonly size: number;
  /** Resolves once every change so far is stored; rejects when storing failed. */
  flush(): Promise<void>;
}

export interface StateStore {
  /** One named map; the same name always returns the same map. `parse` checks stored values on load. */
  map<V>(name: string, options: MapOptions<V>): ExpiringMap<V>;
  /** Stores pending changes and stops background work. */
  close(): Promise<void>;
}

export interface MapOptions<V> {
  maxEntries: number;
  /** Returns the value, or undefined to drop a stored entry that no longer fits. */
  parse: (stored: unknown) => V | undefined;
  /** Delay that gathers changes into one write (the store's default when absent); `flush()` never waits for it. */
  writeDelayMs?: number;
}

/** Map names become file names: keep them plain. */
export const MAP_NAME = /^[a-z][a-z0-9-]{0,40}$/;
