/**
 * A read-only map that answers lookups its own way and iterates over a list it makes when asked:
 * the route table's views and layers, and the control loop's owners read from the memo. Iterating
 * is for status output, fingerprints and tests, never the request path. Values are never
 * undefined, so `has` is a lookup.
 */
export abstract class ListedMap<K, V> implements ReadonlyMap<K, V> {
  abstract readonly size: number;

  abstract get(key: K): V | undefined;

  /** Every entry, in the order iteration gives them. */
  protected abstract list(): [K, V][];

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  entries(): MapIterator<[K, V]> {
    return this.list()[Symbol.iterator]() as MapIterator<[K, V]>;
  }

  keys(): MapIterator<K> {
    return this.list().map(([key]) => key)[Symbol.iterator]() as MapIterator<K>;
  }

  values(): MapIterator<V> {
    return this.list().map(([, value]) => value)[Symbol.iterator]() as MapIterator<V>;
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.list()) callback.call(thisArg, value, key, this);
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
