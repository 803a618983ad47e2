/**
 * A deep copy with object keys in sorted order. Tables are built from such copies (or from
 * object literals with a fixed key order), so plain `JSON.stringify` of a table is canonical:
 * two values equal as data give the same string whatever order their keys arrived in.
 */
export function canonicalCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(canonicalCopy) as T;
  const record = value as Record<string, unknown>;
  const entries: Array<[string, unknown]> = [];
  for (const key of Object.keys(record).sort(compareStrings)) {
    if (record[key] !== undefined) entries.push([key, canonicalCopy(record[key])]);
  }
  // fromEntries defines own properties, so a header named `__proto__` stays a plain key.
  return Object.fromEntries(entries) as T;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalCopy(value));
}

/** Total order on strings by code unit, independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A Map that refuses changes once built, so a published table cannot be edited in place. */
export class FrozenMap<K, V> extends Map<K, V> {
  #sealed = false;

  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    for (const [key, value] of entries) super.set(key, value);
    this.#sealed = true;
    Object.freeze(this);
  }

  override set(key: K, value: V): this {
    if (this.#sealed) throw new TypeError('the route table is frozen');
    return super.set(key, value);
  }

  override delete(_key: K): boolean {
    throw new TypeError('the route table is frozen');
  }

  override clear(): void {
    throw new TypeError('the route table is frozen');
  }
}
