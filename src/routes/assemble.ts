import type { Route } from './table.ts';
import type { RouteIssue, RouteSpec } from './spec.ts';
import { claimsOf, type Candidate } from './group.ts';
import { describeOwner, ownerKey, sameOwner, soleOwner, type Claim, type ClosedClaim, type ClosedClaimSpec, type HostOwner } from './claims.ts';
import { deepFreeze } from '../util/deep-freeze.ts';
import { canonicalCopy, compareStrings } from './canonical.ts';
import { pomeriumRank } from './pomerium.ts';
import { LoneRouteEntry, type HostEntry } from './host-index.ts';

/** A frozen canonical copy of an issue and its JSON, the key issues are sorted by. */
export interface SettledIssue {
  readonly issue: RouteIssue;
  readonly json: string;
}

export function settle(issue: RouteIssue): SettledIssue {
  const copy = deepFreeze(canonicalCopy(issue));
  return { issue: copy, json: JSON.stringify(copy) };
}

/** What the table is assembled from besides merged routes: closed claims and each container's unit. */
export interface ClaimInputs {
  readonly closed: readonly ClosedClaimSpec[];
  /** containerId → the unit it belongs to; a container missing here is a unit of its own. */
  readonly owners: ReadonlyMap<string, HostOwner>;
  /**
   * When `owners` is the very map the previous build was given, updated in place since (as the
   * control loop's claim collector does): the containers whose entry was set or removed since.
   * Then only the routes with a member from one of them are checked for a changed unit, not
   * every route. Absent: every route is checked.
   */
  readonly ownersChanged?: readonly string[];
}

export const NO_CLAIMS: ClaimInputs = Object.freeze({ closed: Object.freeze([]), owners: new Map() });

/**
 * A live candidate or a closed claim, with what ownership needs of either, and its outcome in
 * the latest resolution of the hosts it claims (set by resolveItems, read by the table builder).
 */
export interface Item {
  readonly candidate: Candidate | null;
  readonly closed: ClosedClaimSpec | null;
  readonly hosts: readonly string[];
  readonly owner: HostOwner;
  readonly ownerKey: string;
  readonly isFile: boolean;
  readonly file: string;
  readonly index: number;
  readonly claimedAt: number;
  readonly id: string;
  /** The owner as published in the table (frozen canonical copy), made once per item. */
  frozenOwner: HostOwner | null;
  /** Live: the route is in the table. */
  accepted: boolean;
  /** Closed: the claim as published, on the hosts that were still free; null when none was. */
  published: ClosedClaim | null;
  /** Ownership and conflict issues this item's refusal produced. */
  issues: readonly SettledIssue[];
}

const NO_ISSUES: readonly SettledIssue[] = Object.freeze([]);

/** The unit a live candidate belongs to: `owners` names it per container; otherwise the container (or file) alone. */
export function liveOwner(candidate: Candidate, owners: ReadonlyMap<string, HostOwner>): HostOwner {
  // Members of one route share a replica group, and so a unit: the oldest one names it.
  const source = (candidate.members[candidate.members.length - 1] as RouteSpec).source;
  return source.kind === 'container' ? (owners.get(source.containerId) ?? soleOwner(source)) : soleOwner(source);
}

export function liveItem(candidate: Candidate, owner: HostOwner): Item {
  return {
    candidate,
    closed: null,
    hosts: candidate.route.hosts,
    owner,
    ownerKey: ownerKey(owner),
    isFile: candidate.isFile,
    file: candidate.file,
    index: candidate.index,
    claimedAt: candidate.claimedAt,
    id: candidate.route.id,
    frozenOwner: null,
    accepted: false,
    published: null,
    issues: NO_ISSUES,
  };
}

export function closedItem(spec: ClosedClaimSpec): Item {
  const source = spec.source;
  // File entries are the operator's: one unit, whatever the spec says.
  const owner = source.kind === 'file' ? soleOwner(source) : spec.owner;
  return {
    candidate: null,
    closed: spec,
    hosts: [...new Set(spec.hosts)],
    owner,
    ownerKey: ownerKey(owner),
    isFile: source.kind === 'file',
    file: source.kind === 'file' ? source.file : '',
    index: source.kind === 'file' ? source.index : 0,
    claimedAt: source.kind === 'container' ? source.created : 0,
    id: closedIdOf(spec),
    frozenOwner: null,
    accepted: false,
    published: null,
    issues: NO_ISSUES,
  };
}

export function closedIdOf(spec: Pick<ClosedClaimSpec, 'source' | 'routeName'>): string {
  const source = spec.source;
  return source.kind === 'container' ? `container:${source.containerId}/${spec.routeName}` : `file:${source.file}#${source.index}`;
}

/** The routes file first (by file, index), then the oldest container claim; live before closed on a tie. */
export function byItemPrecedence(a: Item, b: Item): number {
  if (a.isFile !== b.isFile) return a.isFile ? -1 : 1;
  const order = a.isFile ? compareStrings(a.file, b.file) || a.index - b.index : a.claimedAt - b.claimedAt;
  return order || (a.candidate === null ? 1 : 0) - (b.candidate === null ? 1 : 0) || compareStrings(a.id, b.id);
}

/** The outcome resolveItems gives a live item that shares no host with any other item: accepted, owning its hosts. */
export function acceptAlone(item: Item): void {
  item.accepted = item.candidate !== null;
  item.published = null;
  item.issues = NO_ISSUES;
}

/**
 * Settles who gets which address, in two steps, and records each item's outcome on it.
 * Returns host → the item that owns it.
 *
 * Ownership: in precedence order (the routes file, then the oldest container claim, then id),
 * the first claim of a host makes its unit the owner; a claim from another unit under an owned
 * host is refused whatever its path, live or closed. The routes file owns every host it
 * claims, so no container can add a path under an operator's host.
 *
 * Addresses: live routes first, each host + path to the first claim; a newcomer on a taken
 * address is left out entirely, so a container started later never takes over an address that
 * is served. Closed claims then take the addresses still free: a stopped replica beside a
 * running one changes nothing, while a stopped or broken narrow route keeps its path closed.
 *
 * An item's outcome depends only on the items that share a host with it, and theirs on theirs:
 * so `items` may be every item, or any set closed under sharing a host (the table builder
 * resolves again only the hosts a change touched), and the outcomes are the same.
 */
export function resolveItems(items: Item[]): Map<string, Item> {
  items.sort(byItemPrecedence);
  const owners = new Map<string, Item>();
  const owned: Item[] = [];
  for (const item of items) {
    item.accepted = false;
    item.published = null;
    item.issues = NO_ISSUES;
    let foreign: Item | undefined;
    let at = 0;
    for (; at < item.hosts.length; at++) {
      const holder = owners.get(item.hosts[at] as string);
      if (holder !== undefined && holder.ownerKey !== item.ownerKey) {
        foreign = holder;
        break;
      }
    }
    if (foreign !== undefined) {
      if (item.candidate !== null) item.issues = ownershipIssues(item.candidate, item.hosts[at] as string, foreign.owner).map(settle);
      continue;
    }
    for (const host of item.hosts) if (!owners.has(host)) owners.set(host, item);
    owned.push(item);
  }

  const claims = new Map<string, Item>();
  for (const item of owned) {
    const candidate = item.candidate;
    if (candidate === null) continue;
    let claimed = -1;
    const keys = claimsOf(candidate);
    for (let i = 0; i < keys.length; i++) {
      if (claims.has(keys[i] as string)) {
        claimed = i;
        break;
      }
    }
    if (claimed !== -1) {
      const holder = (claims.get(keys[claimed] as string) as Item).candidate as Candidate;
      item.issues = conflictIssues(candidate, holder, candidate.route.hosts[claimed] as string).map(settle);
      continue;
    }
    for (const claim of keys) claims.set(claim, item);
    item.accepted = true;
  }
  for (const item of owned) {
    const spec = item.closed;
    if (spec === null) continue;
    const free = spec.hosts.filter((host) => !claims.has(`${host} ${spec.path}`));
    if (free.length === 0) continue;
    const published = publishClosed(spec, free, item.owner);
    for (const host of free) claims.set(`${host} ${published.path}`, item);
    item.published = published;
  }
  return owners;
}

/**
 * The owner as the table publishes it. `shared` (owner key → owner) lets the items settled in
 * one pass publish one object per unit: the 10,000 routes of one compose project name one owner.
 * Owners with one key may still differ in what only messages show (a container's name, a file's
 * name), so a shared one is taken only when equal in every field.
 */
export function publishedOwner(item: Item, shared?: Map<string, HostOwner>): HostOwner {
  if (item.frozenOwner !== null) return item.frozenOwner;
  const known = shared?.get(item.ownerKey);
  if (known !== undefined && sameOwner(known, item.owner)) {
    item.frozenOwner = known;
    return known;
  }
  const owner = deepFreeze(canonicalCopy(item.owner));
  if (shared !== undefined && known === undefined) shared.set(item.ownerKey, owner);
  item.frozenOwner = owner;
  return owner;
}

/**
 * One host's entries in the table's indexes, from the resolved items that claim it: its live
 * routes, and its live and closed claims, longest path first; on equal paths (aliases) the id decides.
 */
export function hostEntries(host: string, named: Item | readonly Item[], owner: HostOwner | undefined): HostEntry {
  const only = Array.isArray(named) ? (named.length === 1 ? (named[0] as Item) : undefined) : (named as Item);
  if (only !== undefined && only.accepted) {
    // Most hosts have one route: nothing to sort.
    return new LoneRouteEntry((only.candidate as Candidate).route, owner);
  }
  const items: readonly Item[] = Array.isArray(named) ? named : [named as Item];
  const routes: Route[] = [];
  const claims: { claim: Claim; id: string }[] = [];
  for (const item of items) {
    if (item.accepted) {
      const route = (item.candidate as Candidate).route;
      routes.push(route);
      claims.push({ claim: Object.freeze({ state: 'live', path: route.path, route }), id: route.id });
    } else if (item.published !== null) {
      const closed = item.published;
      // Once per time the claim names the host, as a list built from every claim's hosts has it.
      for (const named of closed.hosts) {
        if (named === host) claims.push({ claim: Object.freeze({ state: closed.state, path: closed.path, route: null, closed }), id: closed.id });
      }
    }
  }
  routes.sort((a, b) => b.path.length - a.path.length || compareStrings(a.path, b.path) || compareStrings(a.id, b.id));
  claims.sort((a, b) => bySpecificity(a.claim, b.claim) || compareStrings(a.claim.path, b.claim.path) || compareStrings(a.id, b.id));
  return {
    routes: routes.length === 0 ? undefined : Object.freeze(routes),
    claims: claims.length === 0 ? undefined : Object.freeze(claims.map((entry) => entry.claim)),
    owner,
  };
}

/**
 * Most specific first, whatever the order routes were written in: exact paths (Pomerium's
 * `path`), then RE2 patterns (higher `regex_priority_order` first), then prefixes, longest first;
 * at equal rank a route bound to one port before one that takes any port. So a stricter
 * sub-route always meets its requests before the host-wide route does.
 */
function bySpecificity(a: Claim, b: Claim): number {
  const pa = a.route?.pomerium;
  const pb = b.route?.pomerium;
  return (
    pomeriumRank(pa) - pomeriumRank(pb) ||
    (pb?.match === 'regex' ? pb.regexPriority : 0) - (pa?.match === 'regex' ? pa.regexPriority : 0) ||
    b.path.length - a.path.length ||
    (pa?.port == null ? 1 : 0) - (pb?.port == null ? 1 : 0)
  );
}

function publishClosed(spec: ClosedClaimSpec, hosts: readonly string[], owner: HostOwner): ClosedClaim {
  return deepFreeze(
    canonicalCopy({
      id: closedIdOf(spec),
      hosts: [...hosts],
      owner,
      path: spec.path,
      routeName: spec.routeName,
      source: spec.source,
      state: spec.state,
      ...(spec.stringPrefix === true ? { stringPrefix: true } : {}),
    }),
  );
}

function describe(candidate: Candidate, spec: RouteSpec): string {
  const source = spec.source;
  return source.kind === 'container'
    ? `container "${source.containerName}" (route ${candidate.routeName})`
    : `file "${source.file}" (route ${candidate.routeName})`;
}

/** One issue per member of a route refused because another unit owns one of its hosts. */
function ownershipIssues(newcomer: Candidate, host: string, owner: HostOwner): RouteIssue[] {
  return refusedMembers(newcomer, host, (url, loser) =>
    `${url}: the host ${host} belongs to ${describeOwner(owner)}, and only its owner may publish routes under it; ${loser} route ${newcomer.routeName} was not published (use a host of your own)`,
  );
}

/** One issue per member of the rejected route, each naming the route that keeps the address. */
function conflictIssues(newcomer: Candidate, holder: Candidate, host: string): RouteIssue[] {
  // The oldest member dates the holder's claim, so it is the one to name.
  const holderName = describe(holder, holder.members[holder.members.length - 1] as RouteSpec);
  return refusedMembers(newcomer, host, (url, loser) => `${url} is already served by ${holderName}; ${loser} route ${newcomer.routeName} was not published`);
}

/** A `conflict` issue for each member of a refused route, with the message the caller words. */
function refusedMembers(newcomer: Candidate, host: string, message: (url: string, loser: string) => string): RouteIssue[] {
  const url = `${newcomer.route.fromScheme}://${host}${newcomer.route.path}`;
  return newcomer.members.map((member): RouteIssue => {
    const source = member.source;
    const loser = source.kind === 'container' ? `container "${source.containerName}"` : `file "${source.file}"`;
    return {
      source:
        source.kind === 'container'
          ? { kind: 'container', containerId: source.containerId, containerName: source.containerName }
          : { kind: 'file', file: source.file, index: source.index },
      label: null,
      value: url,
      code: 'conflict',
      message: message(url, loser),
    };
  });
}
