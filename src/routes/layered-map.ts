import { ListedMap } from '../util/listed-map.ts';
import { compareStrings } from './canonical.ts';

const GONE: unique symbol = Symbol('gone');
type Slot<V> = V | typeof GONE;

/**
 * The most entries a map keeps on top of its base before the next change folds them in. Each
 * change copies the top layer, so it is kept small; folding copies the whole map, once every
 * so many changes.
 */
const MAX_TOP = 256;

/**
 * A read-only string-keyed map that the next table derives from the current one by the entries
 * that changed, without copying the rest: a shared base that is never changed, plus a small top
 * layer of changes (a value, or a mark for a removed key). A route table of 10,000 hosts is
 * rebuilt after one container changed at the cost of that container's hosts, not of the 10,000.
 * A lookup reads the top layer, then the base. Iteration is in key order (code units), as the
 * tables' maps always were; it sorts, so it is for status output and tests, not the request path.
 * Values are never undefined.
 */
export class LayeredMap<V> extends ListedMap<string, V> {
  readonly #base: ReadonlyMap<string, V>;
  readonly #top: ReadonlyMap<string, Slot<V>>;
  readonly size: number;

  private constructor(base: ReadonlyMap<string, V>, top: ReadonlyMap<string, Slot<V>>, size: number) {
    super();
    this.#base = base;
    this.#top = top;
    this.size = size;
    Object.freeze(this);
  }

  static empty<V>(): LayeredMap<V> {
    return new LayeredMap<V>(new Map(), new Map(), 0);
  }

  get(key: string): V | undefined {
    if (this.#top.size !== 0) {
      const slot = this.#top.get(key);
      if (slot !== undefined) return slot === GONE ? undefined : slot;
    }
    return this.#base.get(key);
  }

  /** This map with `changes` applied: a value sets its key, undefined removes it. This map stays as it is. */
  with(changes: ReadonlyMap<string, V | undefined>): LayeredMap<V> {
    if (changes.size === 0) return this;
    if (this.#top.size + changes.size > MAX_TOP) return this.folded(changes);
    let size = this.size;
    const top = new Map<string, Slot<V>>(this.#top);
    for (const [key, value] of changes) {
      const had = this.has(key);
      if (value === undefined) {
        if (!had) continue;
        size--;
        if (this.#base.has(key)) top.set(key, GONE);
        else top.delete(key);
      } else {
        if (!had) size++;
        top.set(key, value);
      }
    }
    return new LayeredMap(this.#base, top, size);
  }

  /** This map with `changes` applied, in one new base: every map keeps its own base, so none is ever changed in place. */
  private folded(changes: ReadonlyMap<string, V | undefined>): LayeredMap<V> {
    const base = new Map<string, V>(this.#base);
    for (const [key, slot] of this.#top) {
      if (slot === GONE) base.delete(key);
      else base.set(key, slot);
    }
    for (const [key, value] of changes) {
      if (value === undefined) base.delete(key);
      else base.set(key, value);
    }
    return new LayeredMap(base, new Map(), base.size);
  }

  /**
   * A map whose one layer is `base` itself, not a copy (a first build's maps, made for this):
   * the caller hands it over and must never change it afterwards.
   */
  static adopt<V>(base: Map<string, V>): LayeredMap<V> {
    return new LayeredMap(base, new Map(), base.size);
  }

  /** A map of these entries, in one layer. */
  static of<V>(entries: Iterable<readonly [string, V]>): LayeredMap<V> {
    const base = new Map<string, V>(entries as Iterable<[string, V]>);
    return new LayeredMap(base, new Map(), base.size);
  }

  protected list(): [string, V][] {
    const list: [string, V][] = [];
    for (const [key, value] of this.#base) if (!this.#top.has(key)) list.push([key, value]);
    for (const [key, slot] of this.#top) if (slot !== GONE) list.push([key, slot]);
    return list.sort(([a], [b]) => compareStrings(a, b));
  }
}
