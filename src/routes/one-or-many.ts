/**
 * Maps whose entries are one value, or a list when a key has several: most hosts are named by one
 * item and most containers have one route, and 10,000 one-item lists cost more than the values
 * they hold. Values must never be arrays themselves.
 */
export type OneOrMany<T> = T | T[];

const NONE: readonly never[] = Object.freeze([]);

/** The values of one entry as a list (none when the key is absent). */
export function valuesOf<T>(entry: OneOrMany<T> | undefined): readonly T[] {
  return entry === undefined ? NONE : Array.isArray(entry) ? entry : [entry];
}

/** Adds one value under `key`. */
export function addValue<K, T>(map: Map<K, OneOrMany<T>>, key: K, value: T): void {
  const had = map.get(key);
  if (had === undefined) map.set(key, value);
  else if (Array.isArray(had)) had.push(value);
  else map.set(key, [had, value]);
}

/**
 * Takes one occurrence of `value` out from under `key`, and the key once it has none; a list of
 * one becomes that value. A list is replaced, never changed in place, so one handed out by
 * valuesOf before stays as it was.
 */
export function removeValue<K, T>(map: Map<K, OneOrMany<T>>, key: K, value: T): void {
  const had = map.get(key);
  if (had === undefined) return;
  if (!Array.isArray(had)) {
    if (had === value) map.delete(key);
    return;
  }
  const at = had.indexOf(value);
  if (at === -1) return;
  const rest = [...had.slice(0, at), ...had.slice(at + 1)];
  if (rest.length === 0) map.delete(key);
  else map.set(key, rest.length === 1 ? (rest[0] as T) : rest);
}
