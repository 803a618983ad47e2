import type { Route } from './table.ts';
import type { Claim, HostOwner } from './claims.ts';
import { LayeredMap } from './layered-map.ts';
import { ListedMap } from '../util/listed-map.ts';

/** What a table holds for one host: its routes, its claims and its owner; each absent when there is none. */
export interface HostEntry {
  readonly routes: readonly Route[] | undefined;
  readonly claims: readonly Claim[] | undefined;
  readonly owner: HostOwner | undefined;
}

/**
 * The entry of a host that one live route claims alone (most hosts): the route and the owner,
 * with the two one-item lists made the first time they are read, then kept. A first build of
 * 10,000 hosts made three frozen objects per host here (the two lists and the live claim), most
 * of them read by no request before the next build replaced them. The lists are the same ones
 * every time, frozen like any other entry's; private fields can be set on a frozen object.
 */
export class LoneRouteEntry implements HostEntry {
  readonly owner: HostOwner | undefined;
  readonly #route: Route;
  #routes: readonly Route[] | undefined;
  #claims: readonly Claim[] | undefined;

  constructor(route: Route, owner: HostOwner | undefined) {
    this.owner = owner;
    this.#route = route;
    this.#routes = undefined;
    this.#claims = undefined;
    Object.freeze(this);
  }

  get routes(): readonly Route[] {
    this.#routes ??= Object.freeze([this.#route]);
    return this.#routes;
  }

  get claims(): readonly Claim[] {
    const route = this.#route;
    this.#claims ??= Object.freeze([Object.freeze({ state: 'live' as const, path: route.path, route })]);
    return this.#claims;
  }
}

/** Whether an entry has any part, without making a lone route's lists. */
export function isEmptyEntry(entry: HostEntry): boolean {
  return !(entry instanceof LoneRouteEntry) && entry.routes === undefined && entry.claims === undefined && entry.owner === undefined;
}

function hasRoutes(entry: HostEntry | undefined): number {
  return entry === undefined ? 0 : entry instanceof LoneRouteEntry || entry.routes !== undefined ? 1 : 0;
}

function hasClaims(entry: HostEntry | undefined): number {
  return entry === undefined ? 0 : entry instanceof LoneRouteEntry || entry.claims !== undefined ? 1 : 0;
}

/** How many hosts have each part: the sizes of the three views. */
interface Counts {
  readonly routes: number;
  readonly claims: number;
  readonly owners: number;
}

/**
 * A table's three host maps (byHost, claims, owners) as one index of host → HostEntry: one map to
 * fill on a build and to derive from on a change, instead of three, each of 10,000 hosts at
 * 10,000 containers. Each map is a read-only view of one part of the entries.
 */
export class HostIndex {
  readonly entries: LayeredMap<HostEntry>;
  readonly byHost: ReadonlyMap<string, readonly Route[]>;
  readonly claims: ReadonlyMap<string, readonly Claim[]>;
  readonly owners: ReadonlyMap<string, HostOwner>;
  readonly #counts: Counts;

  private constructor(entries: LayeredMap<HostEntry>, counts: Counts) {
    this.entries = entries;
    this.#counts = counts;
    this.byHost = new HostView(entries, routesOf, counts.routes);
    this.claims = new HostView(entries, claimsOf, counts.claims);
    this.owners = new HostView(entries, ownerOf, counts.owners);
    Object.freeze(this);
  }

  static empty(): HostIndex {
    return new HostIndex(LayeredMap.empty(), { routes: 0, claims: 0, owners: 0 });
  }

  /**
   * An index whose entries are `base` itself, not a copy (a first build's, made for this): the
   * caller hands it over and must never change it afterwards. Every entry has at least one part.
   */
  static adopt(base: Map<string, HostEntry>): HostIndex {
    let routes = 0;
    let claims = 0;
    let owners = 0;
    for (const entry of base.values()) {
      routes += hasRoutes(entry);
      claims += hasClaims(entry);
      if (entry.owner !== undefined) owners++;
    }
    return new HostIndex(LayeredMap.adopt(base), { routes, claims, owners });
  }

  /** This index with `changes` applied: an entry sets its host (an entry with no part removes it), undefined removes it. */
  with(changes: ReadonlyMap<string, HostEntry | undefined>): HostIndex {
    if (changes.size === 0) return this;
    let { routes, claims, owners } = this.#counts;
    const applied = new Map<string, HostEntry | undefined>();
    for (const [host, next] of changes) {
      const before = this.entries.get(host);
      const now = next === undefined || isEmptyEntry(next) ? undefined : next;
      routes += hasRoutes(now) - hasRoutes(before);
      claims += hasClaims(now) - hasClaims(before);
      owners += has(now?.owner) - has(before?.owner);
      applied.set(host, now);
    }
    return new HostIndex(this.entries.with(applied), { routes, claims, owners });
  }
}

const has = (part: unknown): number => (part === undefined ? 0 : 1);
const routesOf = (entry: HostEntry) => entry.routes;
const claimsOf = (entry: HostEntry) => entry.claims;
const ownerOf = (entry: HostEntry) => entry.owner;

/** One part of the index as a read-only map: hosts without that part are not in it. Iterates in key order, as LayeredMap does. */
class HostView<V> extends ListedMap<string, V> {
  readonly #entries: LayeredMap<HostEntry>;
  readonly #part: (entry: HostEntry) => V | undefined;
  readonly size: number;

  constructor(entries: LayeredMap<HostEntry>, part: (entry: HostEntry) => V | undefined, size: number) {
    super();
    this.#entries = entries;
    this.#part = part;
    this.size = size;
    Object.freeze(this);
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    return entry === undefined ? undefined : this.#part(entry);
  }

  protected list(): [string, V][] {
    const list: [string, V][] = [];
    for (const [key, entry] of this.#entries) {
      const value = this.#part(entry);
      if (value !== undefined) list.push([key, value]);
    }
    return list;
  }
}
