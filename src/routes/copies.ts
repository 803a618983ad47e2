import { FIELD_KEYS, KEY_FIELDS } from './key-fields.ts';
import { sortByCodeUnit } from '../util/sort-by-code-unit.ts';
import type { RoutePolicy, RouteSource, RouteSpec, UpstreamTarget } from './spec.ts';
import { canonicalCopy, compareStrings } from './canonical.ts';

/**
 * Frozen copies of the parts of a route, built frozen rather than walked afterwards. Each
 * object spells its keys in one fixed order (sorted, as canonicalCopy would, where a free-form
 * copy used to be), so JSON.stringify of a route is canonical: equal routes, equal strings.
 *
 * A part that is already such a copy (frozen all the way down, keys in that order: what the
 * label translator makes, labels/route-spec.ts) is taken as it is, so a route and its spec share
 * it and the builder keeps one copy rather than two. Anything else (a spec from the routes file
 * or a test, a part made mutable since) is copied.
 */

/**
 * One frozen empty list and one frozen empty record for every route that has an empty one:
 * most routes leave most list settings empty, and 10,000 routes kept a few empty copies each.
 */
export const EMPTY_LIST: readonly never[] = Object.freeze([]);
const EMPTY_RECORD: Readonly<Record<string, never>> = Object.freeze({});

/**
 * Values already frozen in canonical form, which frozenCanonical takes as they are: the key
 * defaults every spec shares (see sharedCanonical), so 10,000 routes that leave a list or a
 * record at its default hold one copy of it, not 10,000.
 */
const CANONICAL = new WeakSet<object>();

/** Records with at most this many keys, each text, a boolean or null, are shared within a build. */
const MAX_SHARED_KEYS = 3;

/**
 * A part a translator made is taken as it is when it is already what a copy would be: frozen all
 * the way down and in canonical form. The check reads keys with for-in and items by index, so it
 * makes nothing; anything it cannot vouch for (not frozen, keys out of order or inherited, an
 * undefined or non-JSON value, a class instance, a part nested deeper than MAX_DEPTH) is copied
 * as before. A spec from the routes file or a test is not frozen, so it is copied.
 */
const MAX_DEPTH = 8;

/** Object.prototype.hasOwnProperty, called on a record inside for-in over it: V8 answers that without a lookup (Object.hasOwn it does not). */
const hasOwn = Object.prototype.hasOwnProperty;

/** Object.freeze without the readonly type, for parts typed by the mutable zod schemas. */
export function frozen<T extends object>(value: T): T {
  return Object.freeze(value);
}

/** The route fields the label keys fill, each once, in key-table order (`policy` for `policy.allow`, …). */
export const KEY_FIELD_TOPS: readonly string[] = Object.freeze([...new Set(FIELD_KEYS.map(([, path]) => path[0] as string))]);

/** A nested field (`access`, `oidc`, …) whose keys all have a default: those defaults, and the group they make, frozen once. */
interface DefaultGroup {
  readonly fields: ReadonlyArray<readonly [string, unknown]>;
  readonly shared: unknown;
}

const DEFAULT_GROUPS: ReadonlyMap<string, DefaultGroup> = new Map(
  KEY_FIELD_TOPS.flatMap((top) => {
    const fields = FIELD_KEYS.filter(([, path]) => path.length === 2 && path[0] === top).map(([name, path]) => [path[1] as string, KEY_FIELDS[name].default] as const);
    if (fields.length === 0 || fields.some(([, value]) => value === undefined)) return [];
    return [[top, { fields, shared: frozenCanonical(Object.fromEntries(fields)) }] as const];
  }),
);

/** Equal to the key's default as data: the same value, or both empty lists, or both empty records. */
function isDefault(value: unknown, fallback: unknown): boolean {
  if (value === fallback) return true;
  if (value === null || fallback === null || typeof value !== 'object' || typeof fallback !== 'object') return false;
  if (Array.isArray(value)) return Array.isArray(fallback) && value.length === 0 && fallback.length === 0;
  return !Array.isArray(fallback) && Object.keys(value).length === 0 && Object.keys(fallback).length === 0;
}

/** A group with exactly its fields, each at its default. */
function isDefaultGroup(value: unknown, group: DefaultGroup): boolean {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  let count = 0;
  for (const name in record) if (record[name] !== undefined) count++;
  if (count !== group.fields.length) return false;
  for (const [name, fallback] of group.fields) if (!isDefault(record[name], fallback)) return false;
  return true;
}

/**
 * One field a label key fills (`top`: `policy` for `policy.allow`), as a canonical frozen copy.
 * A group left wholly at its defaults (most routes set no `access.*` or `oidc.*` key) is one
 * frozen object shared by every such route.
 */
export function copyKeyField(top: string, value: unknown, shared?: SharedParts): unknown {
  if (value === null || typeof value !== 'object') return value;
  const group = DEFAULT_GROUPS.get(top);
  // The shared default group, or a translator's part (frozen, canonical already): the copy this would make, taken as it is.
  if ((group !== undefined && value === group.shared) || isFrozenCanonical(value)) return value;
  return group !== undefined && isDefaultGroup(value, group) ? group.shared : frozenCanonical(value, shared);
}

/** The policy fields (sorted), as the key table has them today: copyPolicy's literal names exactly these. */
const POLICY_FIELDS: readonly string[] = Object.freeze(['allow', 'bypass', 'corsPreflight', 'deny', 'public']);
const POLICY_FIELDS_NOW = Object.freeze(
  FIELD_KEYS.filter(([, path]) => path[0] === 'policy')
    .map(([, path]) => path[1] as string)
    .sort(),
);
const POLICY_LITERAL_FITS = POLICY_FIELDS_NOW.length === POLICY_FIELDS.length && POLICY_FIELDS_NOW.every((name, i) => name === POLICY_FIELDS[i]);

/**
 * A route's policy as copyKeyField gives it, built as one literal when the policy has exactly the
 * fields the key table names today: its fields are then in the object itself, where a copy
 * filled in key by key kept most of them in a separate store. Any other policy (a key added to
 * the table since, or a record with extra fields) takes the general copy.
 */
export function copyPolicy(policy: RoutePolicy, shared?: SharedParts): RoutePolicy {
  // A translator's policy (frozen, canonical, exactly these fields) is the copy this would make.
  if (POLICY_LITERAL_FITS && isFrozenCanonicalWith(policy, POLICY_FIELDS)) return policy;
  if (!POLICY_LITERAL_FITS || !hasExactly(policy, POLICY_FIELDS)) return copyKeyField('policy', policy, shared) as RoutePolicy;
  if (DEFAULT_POLICY !== undefined && isDefaultGroup(policy, DEFAULT_POLICY)) return DEFAULT_POLICY.shared as RoutePolicy;
  return Object.freeze({
    allow: frozenCanonical(policy.allow, shared) as RoutePolicy['allow'],
    bypass: frozenCanonical(policy.bypass, shared) as RoutePolicy['bypass'],
    corsPreflight: policy.corsPreflight,
    deny: frozenCanonical(policy.deny, shared) as RoutePolicy['deny'],
    public: policy.public,
  } satisfies Record<(typeof POLICY_FIELDS)[number], unknown>);
}

const DEFAULT_POLICY = DEFAULT_GROUPS.get('policy');

/**
 * A group of key fields (`access`, `oidc`, …) with every key at its default, as one frozen
 * object: the one the table builder gives every route that leaves the group so, and so takes
 * as it is. Undefined when a key of the group has no default (`display.name`).
 */
export function defaultKeyGroup(top: string): object | undefined {
  return DEFAULT_GROUPS.get(top)?.shared as object | undefined;
}

/** Own enumerable keys exactly `names`, each set (not undefined). */
function hasExactly(record: object, names: readonly string[]): boolean {
  let count = 0;
  for (const key in record) {
    if (!hasOwn.call(record, key)) return false;
    count++;
  }
  if (count !== names.length) return false;
  for (const name of names) if ((record as Record<string, unknown>)[name] === undefined || !Object.hasOwn(record, name)) return false;
  return true;
}

/** A frozen canonical copy of `value` that frozenCanonical returns unchanged wherever it meets it again; for values made once (defaults), not per route. */
export function sharedCanonical<T>(value: T): T {
  const copy = frozenCanonical(value);
  if (copy !== null && typeof copy === 'object') CANONICAL.add(copy);
  return copy as T;
}

/**
 * canonicalCopy and deep freeze in one pass: keys sorted, each object frozen as it is built.
 * With `shared` (canonical JSON → object, for one build), a list item that is a small record of
 * plain values (a policy entry, a bypass rule) equal to one copied before is that same frozen
 * object: 10,000 routes that allow `@example.org` hold one such entry, not 10,000. Records
 * elsewhere (a route's `display`, named after its container) are seldom equal, so they are
 * not looked up.
 */
export function frozenCanonical(value: unknown, shared?: SharedParts): unknown {
  return canonicalPart(value, shared, false);
}

function canonicalPart(value: unknown, shared: SharedParts | undefined, listItem: boolean): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (listItem && shared !== undefined && !Array.isArray(value)) {
    // A policy entry as a translator makes it (frozen, canonical, a few plain values): the equal
    // one shared before, else itself, remembered. Any other record equal to one shared before
    // (its keys in any order): that one. Then there is nothing to copy.
    const known = shared.adopt(value as Readonly<Record<string, unknown>>) ?? shared.find(value as Readonly<Record<string, unknown>>);
    if (known !== undefined) return known;
  }
  // Already what a copy would be: a default made once, or a translator's part.
  if (CANONICAL.has(value) || isFrozenCanonical(value)) return value;
  if (Array.isArray(value)) {
    if (value.length === 0) return EMPTY_LIST;
    const items = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) items[i] = canonicalPart(value[i], shared, true);
    return Object.freeze(items);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 0) return EMPTY_RECORD;
  sortByCodeUnit(keys);
  const copy: Record<string, unknown> = {};
  let flat = listItem && shared !== undefined && keys.length <= MAX_SHARED_KEYS;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    // Text, booleans and null only: JSON tells those apart exactly (it would not tell -0 from 0).
    if (item !== null && typeof item !== 'string' && typeof item !== 'boolean') flat = false;
    // defineProperty keeps a key named `__proto__` as data; plain assignment is faster for the rest.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: canonicalPart(item, shared, false), enumerable: true, writable: true, configurable: true });
    else copy[key] = canonicalPart(item, shared, false);
  }
  if (!flat) return Object.freeze(copy);
  return (shared as SharedParts).share(Object.freeze(copy));
}

/**
 * Small values shared among the routes merged in one build (see frozenCanonical). Most are
 * policy entries, a `kind` and one text (`{ email, kind }`): those are found by kind and text,
 * with no string made for them; the rest by their canonical JSON.
 */
export class SharedParts {
  readonly #byJson = new Map<string, object>();
  readonly #byKind = new Map<string, Map<string, Readonly<Record<string, unknown>>>>();

  /**
   * A shared record equal to `record` (not a copy: its own keys in any order), when it is a
   * `kind` and one text and one such was shared before; else undefined. Reads the keys with
   * for-in, which makes no list.
   */
  find(record: Readonly<Record<string, unknown>>): object | undefined {
    let other: string | undefined;
    let count = 0;
    for (const key in record) {
      if (!hasOwn.call(record, key)) return undefined;
      if (++count > 2) return undefined;
      if (key !== 'kind') other = key;
    }
    if (count !== 2 || other === undefined) return undefined;
    const kind = record.kind;
    const text = record[other];
    if (typeof kind !== 'string' || typeof text !== 'string') return undefined;
    const known = this.#byKind.get(kind)?.get(text);
    return known !== undefined && known[other] === text ? known : undefined;
  }

  /** The record equal to `record` (frozen, canonical, flat) shared before, else `record` itself, remembered. */
  share(record: Readonly<Record<string, unknown>>): object {
    let count = 0;
    let withKind = false;
    let other = '';
    for (const key in record) {
      count++;
      if (key === 'kind') withKind = true;
      else other = key;
    }
    return this.#remember(record, count === 2 && withKind ? other : null);
  }

  /**
   * When `record` is frozen, canonical and flat (an ordinary object with one to MAX_SHARED_KEYS
   * own keys in sorted order, each text, a boolean or null), as translators make policy entries:
   * the equal one shared before, else `record` itself, remembered. Undefined for any other value.
   * One pass over the keys, with for-in, which makes no list.
   */
  adopt(record: Readonly<Record<string, unknown>>): object | undefined {
    if (!Object.isFrozen(record) || Object.getPrototypeOf(record) !== Object.prototype) return undefined;
    let count = 0;
    let previous = '';
    let withKind = false;
    let other = '';
    for (const key in record) {
      if (++count > MAX_SHARED_KEYS || !hasOwn.call(record, key) || (count > 1 && !(previous < key))) return undefined;
      const item = record[key];
      // Text, booleans and null only: JSON tells those apart exactly (it would not tell -0 from 0).
      if (item !== null && typeof item !== 'string' && typeof item !== 'boolean') return undefined;
      if (key === 'kind') withKind = true;
      else other = key;
      previous = key;
    }
    if (count === 0) return undefined;
    return this.#remember(record, count === 2 && withKind ? other : null);
  }

  /** `other`: the key beside `kind` of a two-key record (found by kind and text), else null (found by JSON). */
  #remember(record: Readonly<Record<string, unknown>>, other: string | null): object {
    if (other !== null) {
      const kind = record.kind;
      const text = record[other];
      if (typeof kind === 'string' && typeof text === 'string') {
        let byText = this.#byKind.get(kind);
        if (byText === undefined) {
          byText = new Map();
          this.#byKind.set(kind, byText);
        }
        const known = byText.get(text);
        // Of one kind with the same text, but maybe under another key: then JSON decides.
        if (known === undefined) {
          byText.set(text, record);
          return record;
        }
        if (known[other] === text) return known;
      }
    }
    const json = JSON.stringify(record);
    const known = this.#byJson.get(json);
    if (known !== undefined) return known;
    this.#byJson.set(json, record);
    return record;
  }
}


/**
 * True when `value` is JSON data (text, numbers, booleans, null, lists, records) frozen all the way
 * down, every list an ordinary array without holes and every record an ordinary object whose own
 * keys, in the order they are enumerated (JSON.stringify's order), are sorted by code unit, none
 * inherited and none undefined: what frozenCanonical would copy it to, as JSON and as a value
 * nobody can change. (A getter on a frozen object could still answer differently each time; no
 * translator makes one, and the copy would call it too.)
 */
export function isFrozenCanonical(value: unknown): boolean {
  return canonicalAt(value, 0);
}

function canonicalAt(value: unknown, depth: number): boolean {
  if (value === null) return true;
  const type = typeof value;
  if (type === 'string' || type === 'boolean' || type === 'number') return true;
  // The empty defaults most lists and records of a route are: known, not walked.
  if (value === EMPTY_LIST || value === EMPTY_RECORD) return true;
  if (type !== 'object' || depth > MAX_DEPTH || !Object.isFrozen(value)) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!canonicalAt(value[i], depth + 1)) return false;
    return true;
  }
  return Object.getPrototypeOf(value) === Object.prototype && recordAt(value as Readonly<Record<string, unknown>>, depth, null);
}

/** The keys of a frozen ordinary record: own, sorted (exactly `names`, sorted, when given), each value canonical. */
function recordAt(record: Readonly<Record<string, unknown>>, depth: number, names: readonly string[] | null): boolean {
  let previous: string | null = null;
  let at = 0;
  for (const key in record) {
    // Inherited (a polluted prototype) or out of order: a copy would differ.
    if (!hasOwn.call(record, key) || (previous !== null && !(previous < key)) || (names !== null && key !== names[at])) return false;
    const item = record[key];
    if (item === undefined || !canonicalAt(item, depth + 1)) return false;
    previous = key;
    at++;
  }
  return names === null || at === names.length;
}

/** isFrozenCanonical for a record with exactly these keys (sorted): one pass over them. */
function isFrozenCanonicalWith(record: object, names: readonly string[]): boolean {
  return Object.isFrozen(record) && Object.getPrototypeOf(record) === Object.prototype && recordAt(record as Readonly<Record<string, unknown>>, 0, names);
}

/** Frozen, an ordinary object, with exactly `names` as its own keys in that order, each JSON text, number, boolean or null. */
function isFlatLiteral(record: object, names: readonly string[]): boolean {
  if (!Object.isFrozen(record) || Object.getPrototypeOf(record) !== Object.prototype) return false;
  let at = 0;
  for (const key in record) {
    if (key !== names[at] || !hasOwn.call(record, key)) return false;
    const item = (record as Record<string, unknown>)[key];
    if (item !== null && typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') return false;
    at++;
  }
  return at === names.length;
}

/** The key orders copySource and copyUpstream write (the table's, unchanged: sources sorted, upstreams as they always were). */
const CONTAINER_SOURCE_FIELDS: readonly string[] = Object.freeze(['containerId', 'containerName', 'created', 'group', 'kind']);
const FILE_SOURCE_FIELDS: readonly string[] = Object.freeze(['file', 'index', 'kind']);
const UPSTREAM_FIELDS: readonly string[] = Object.freeze(['origin', 'containerId', 'ready', 'state']);
const NETWORK_UPSTREAM_FIELDS: readonly string[] = Object.freeze([...UPSTREAM_FIELDS, 'network']);

export function copyHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (isFrozenCanonical(headers)) return headers;
  // Free-form names: a canonical copy sorts them and keeps a header named `__proto__` as data.
  return Object.keys(headers).length === 0 ? EMPTY_RECORD : frozen(canonicalCopy(headers));
}

/** A list of texts (removed header names, …): taken as it is when frozen, else a frozen copy. */
export function copyList<T extends string>(list: readonly T[]): readonly T[] {
  if (isFrozenCanonical(list)) return list;
  return list.length === 0 ? EMPTY_LIST : frozen([...list]);
}

export function copySource(source: RouteSource): RouteSource {
  if (isFlatLiteral(source, source.kind === 'container' ? CONTAINER_SOURCE_FIELDS : FILE_SOURCE_FIELDS)) return source;
  return frozen(
    source.kind === 'container'
      ? { containerId: source.containerId, containerName: source.containerName, created: source.created, group: source.group, kind: source.kind }
      : { file: source.file, index: source.index, kind: source.kind },
  );
}

export function copyUpstream(target: UpstreamTarget): UpstreamTarget {
  if (isFlatLiteral(target, target.network === undefined ? UPSTREAM_FIELDS : NETWORK_UPSTREAM_FIELDS)) return target;
  return upstreamTarget(target.origin, target.containerId, target.ready, target.state, target.network);
}

/** An upstream as the table holds it, frozen; what translators build theirs with, so the table takes them as they are. */
export function upstreamTarget(origin: string, containerId: string | null, ready: boolean, state: string, network?: string): UpstreamTarget {
  // One literal each way, so the fields are in the object (a spread added a separate store).
  return frozen(network === undefined ? { origin, containerId, ready, state } : { origin, containerId, ready, state, network });
}

/** At most this many hosts are checked for repeats in place; a longer list is copied (a Set removes repeats). */
const MAX_HOSTS_IN_PLACE = 16;

/**
 * A route's host names, each once: a frozen list of distinct texts is taken as it is (what a
 * translator gives), anything else copied without repeats, each name as a string of its own.
 */
export function copyHosts(hosts: readonly string[]): readonly string[] {
  if (isDistinctTexts(hosts)) return hosts;
  return hosts.length === 1 ? frozen([ownText(hosts[0] as string)]) : frozen([...new Set(hosts)].map(ownText));
}

function isDistinctTexts(list: readonly string[]): boolean {
  if (!Object.isFrozen(list) || !Array.isArray(list) || Object.getPrototypeOf(list) !== Array.prototype) return false;
  const length = list.length;
  if (length === 0 || length > MAX_HOSTS_IN_PLACE) return false;
  for (let i = 0; i < length; i++) {
    const host = list[i];
    if (typeof host !== 'string') return false;
    for (let j = 0; j < i; j++) if (list[j] === host) return false;
  }
  return true;
}

/**
 * A host name (lowercase already) as a string of its own. A translator reads the host out of the
 * `from` URL, and V8 keeps such a part as a slice of the whole URL text, which the table then
 * kept alive for every route (about 40 B more per host); lowercasing makes a copy of just the name
 * (V8 returns a new string even when nothing changes case).
 */
function ownText(host: string): string {
  const copy = host.toLowerCase();
  // The same text always: a host not in lowercase (none from the translators) is kept as it is.
  return copy === host ? copy : host;
}
