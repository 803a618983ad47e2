import type { Route, RouteTable } from './table.ts';
import type { RouteIssue, RouteSpec } from './spec.ts';
import {
  byItemPrecedence,
  closedItem,
  hostEntries,
  liveItem,
  liveOwner,
  NO_CLAIMS,
  publishedOwner,
  acceptAlone,
  resolveItems,
  settle,
  type ClaimInputs,
  type Item,
  type SettledIssue,
} from './assemble.ts';
import { sameOwner, type Claim, type ClosedClaim, type ClosedClaimSpec, type HostOwner } from './claims.ts';
import { compareStrings } from './canonical.ts';
import { HostIndex, isEmptyEntry, type HostEntry } from './host-index.ts';
import { sameItems } from '../util/same-items.ts';
import { mergeGroup, routeIdOf, type Candidate } from './group.ts';
import { indexOidcClients } from './oidc-clients.ts';
import { SharedParts } from './copies.ts';
import { addValue, removeValue, valuesOf, type OneOrMany } from './one-or-many.ts';
import { applySorted } from './sorted-by-id.ts';

/** The items that name one host: the item itself when it is the only one (most hosts). */
type HostItems = OneOrMany<Item>;

/** A container's route ids: the id itself when it has one route (most containers). */
type RouteIds = OneOrMany<string>;

const NO_ITEMS: readonly Item[] = Object.freeze([]);

/** Builds tables one after another, at a cost that follows what changed since the previous build. */
export interface RouteTableBuilder {
  /**
   * The same table `buildRouteTable(specs, issues, claims)` gives. A route whose members are
   * the very spec objects of the previous build is taken over as it was, and only the hosts
   * that a new, changed or removed route or closed claim names are settled again; when nothing
   * changed at all the previous table itself comes back. So callers must treat the specs,
   * issues and closed claims they pass as values and never change them in place. `claims` adds
   * the closed claims and each container's unit (see resolveItems); the same closed-claim
   * objects and equal units count as unchanged.
   */
  build(specs: readonly RouteSpec[], issues: readonly RouteIssue[], claims?: ClaimInputs): RouteTable;
}

/** The build a spec or closed claim was last passed in: one passed before but not now has gone. */
interface Seen {
  build: number;
}

/** A spec passed in the latest build: when, and its route id (made once per spec). */
interface SeenSpec extends Seen {
  readonly id: string;
}

interface State {
  build: number;
  specs: readonly RouteSpec[];
  closedSpecs: readonly ClosedClaimSpec[];
  /** The specs of the latest build (a plain map: entries of specs that went are deleted as they go). */
  readonly seenSpecs: Map<RouteSpec, SeenSpec>;
  readonly seenClosed: WeakMap<ClosedClaimSpec, Seen>;
  /** Route id → the specs that claim it now. */
  readonly members: Map<string, RouteSpec[]>;
  /**
   * Container id → the route id of each of its specs now (one entry per spec), to find its
   * routes when its unit changes. Kept from the first build on: made by the first build that
   * needed it instead, it cost the first change about as much more as it saved the first build.
   */
  readonly routesOf: Map<string, RouteIds>;
  /** The owners map the previous build was given (see ClaimInputs.ownersChanged). */
  ownersGiven: ReadonlyMap<string, HostOwner> | null;
  /** Route id → the item of its merged route. */
  readonly live: Map<string, Item>;
  readonly closed: Map<ClosedClaimSpec, Item>;
  /** Host → every item (live or closed) that names it. */
  readonly hostItems: Map<string, HostItems>;
  /** Accepted routes and published closed claims, sorted by id, as the table lists them. */
  routes: Route[];
  published: ClosedClaim[];
  readonly refused: Set<Item>;
  /** Accepted routes that declare an OpenID client (`iap.oidc.*`): few, kept as items settle. */
  readonly declaring: Set<Item>;
  translator: { readonly byIssue: ReadonlyMap<RouteIssue, SettledIssue>; readonly settled: readonly SettledIssue[] };
  /** The table's byHost, claims and owners, as one index. */
  hosts: HostIndex;
  table: RouteTable | null;
}

function emptyState(): State {
  return {
    build: 0,
    specs: [],
    closedSpecs: [],
    seenSpecs: new Map(),
    seenClosed: new WeakMap(),
    members: new Map(),
    routesOf: new Map(),
    ownersGiven: null,
    live: new Map(),
    closed: new Map(),
    hostItems: new Map(),
    routes: [],
    published: [],
    refused: new Set(),
    declaring: new Set(),
    translator: { byIssue: new Map(), settled: [] },
    hosts: HostIndex.empty(),
    table: null,
  };
}

export function createRouteTableBuilder(): RouteTableBuilder {
  let state = emptyState();
  return {
    build(specs, issues, claims = NO_CLAIMS) {
      try {
        return buildNext(state, specs, issues, claims);
      } catch (error) {
        // A build that failed half-way leaves nothing half-applied behind: the next one starts afresh.
        state = emptyState();
        throw error;
      }
    },
  };
}

function buildNext(state: State, specs: readonly RouteSpec[], issues: readonly RouteIssue[], inputs: ClaimInputs): RouteTable {
  const now = ++state.build;
  const removed: Item[] = [];
  const added: Item[] = [];

  // Nothing built before (the first build, or the first after a failed one): every route is new,
  // so the routes to merge are simply every route id, in the members map itself.
  const fresh = state.specs.length === 0 && state.live.size === 0;
  // Routes whose members changed are merged again; the others keep their merged route.
  const dirty = new Set<string>();
  if (fresh) addFresh(state, specs, now);
  else for (const spec of specs) {
    const seen = state.seenSpecs.get(spec);
    if (seen !== undefined) {
      // Listed twice, or kept from the previous build (an entry from before that was deleted).
      if (seen.build === now || seen.build === now - 1) {
        seen.build = now;
        continue;
      }
    }
    const id = routeIdOf(spec);
    state.seenSpecs.set(spec, { build: now, id });
    const list = state.members.get(id);
    if (list === undefined) state.members.set(id, [spec]);
    else list.push(spec);
    if (spec.source.kind === 'container') addValue(state.routesOf, spec.source.containerId, id);
    dirty.add(id);
  }
  for (const spec of state.specs) {
    const seen = state.seenSpecs.get(spec);
    // Undefined: listed twice before and already taken out.
    if (seen === undefined || seen.build === now) continue;
    state.seenSpecs.delete(spec);
    const id = seen.id;
    const list = (state.members.get(id) ?? []).filter((member) => member !== spec);
    if (list.length === 0) state.members.delete(id);
    else state.members.set(id, list);
    if (spec.source.kind === 'container') removeValue(state.routesOf, spec.source.containerId, id);
    dirty.add(id);
  }
  state.specs = specs;

  // A route whose unit changed is settled again too (ownership is per unit).
  const checkUnit = (id: string, item: Item | undefined) => {
    if (item !== undefined && !dirty.has(id) && !ownerUnchanged(item, inputs.owners)) dirty.add(id);
  };
  if (inputs.ownersChanged !== undefined && inputs.owners === state.ownersGiven) {
    for (const containerId of inputs.ownersChanged) for (const id of valuesOf(state.routesOf.get(containerId))) checkUnit(id, state.live.get(id));
  } else {
    for (const [id, item] of state.live) checkUnit(id, item);
  }
  state.ownersGiven = inputs.owners;
  // Equal small values (policy entries, bypass rules) of the routes merged now are one object.
  const shared = new SharedParts();
  const merge = (id: string, list: readonly RouteSpec[]) => {
    const candidate = mergeGroup(id, list, shared);
    const item = liveItem(candidate, liveOwner(candidate, inputs.owners));
    state.live.set(id, item);
    added.push(item);
  };
  if (fresh) {
    for (const [id, list] of state.members) merge(id, list);
  } else {
    for (const id of dirty) {
      const before = state.live.get(id);
      if (before !== undefined) removed.push(before);
      const list = state.members.get(id);
      if (list === undefined) state.live.delete(id);
      else merge(id, list);
    }
  }

  for (const spec of inputs.closed) {
    const seen = state.seenClosed.get(spec);
    if (seen !== undefined && seen.build === now) continue;
    const present = seen !== undefined && seen.build === now - 1;
    if (seen === undefined) state.seenClosed.set(spec, { build: now });
    else seen.build = now;
    if (present) continue;
    const item = closedItem(spec);
    state.closed.set(spec, item);
    added.push(item);
  }
  for (const spec of state.closedSpecs) {
    const item = state.closed.get(spec);
    if (item === undefined || (state.seenClosed.get(spec) as Seen).build === now) continue;
    state.closed.delete(spec);
    removed.push(item);
  }
  state.closedSpecs = inputs.closed;

  const byIssue = new Map<RouteIssue, SettledIssue>();
  const settled: SettledIssue[] = [];
  for (const issue of issues) {
    const done = byIssue.get(issue) ?? state.translator.byIssue.get(issue) ?? settle(issue);
    byIssue.set(issue, done);
    settled.push(done);
  }
  const sameIssues = sameItems(settled, state.translator.settled);
  state.translator = { byIssue, settled };
  if (state.table !== null && removed.length === 0 && added.length === 0 && sameIssues) return state.table;

  settleAgain(state, removed, added);
  return tableOf(state);
}

/**
 * Takes the removed items out, puts the added ones in, and settles again every item that
 * shares a host with them, directly or through another item: the rest keep their outcome.
 */
function settleAgain(state: State, removed: readonly Item[], added: Item[]): void {
  // Nothing settled before: every item is new and every host is touched, with nothing to take out.
  const fresh = removed.length === 0 && state.hostItems.size === 0;
  const lists = sortedListChanges();
  const hosts = new Set<string>();
  for (const item of removed) {
    for (const host of item.hosts) {
      hosts.add(host);
      removeValue(state.hostItems, host, item);
    }
    retract(state, item, lists);
  }
  for (const item of added) {
    for (const host of item.hosts) {
      if (!fresh) hosts.add(host);
      addValue(state.hostItems, host, item);
    }
  }

  let affected: Item[];
  // Items settled without resolving (a first build's live items that share no host with another).
  let alone = false;
  if (fresh) {
    affected = added;
    alone = true;
  } else {
    const reached = new Set<Item>(added);
    const pending = [...hosts];
    while (pending.length > 0) {
      for (const item of valuesOf(state.hostItems.get(pending.pop() as string))) {
        if (reached.has(item)) continue;
        reached.add(item);
        for (const host of item.hosts) {
          if (hosts.has(host)) continue;
          hosts.add(host);
          pending.push(host);
        }
      }
    }
    affected = [...reached];
    for (const item of affected) retract(state, item, lists);
  }
  const owners = resolveItems(alone ? settleAlone(affected, state.hostItems) : affected);
  for (const item of affected) {
    if (item.accepted) lists.routesIn.push((item.candidate as Candidate).route);
    if (item.published !== null) lists.publishedIn.push(item.published);
    if (item.issues.length > 0) state.refused.add(item);
    if (item.accepted && declaresClient(item)) state.declaring.add(item);
  }
  state.routes = applySorted(state.routes, lists.routesOut, lists.routesIn);
  state.published = applySorted(state.published, lists.publishedOut, lists.publishedIn);

  const sharedOwners = new Map<string, HostOwner>();
  const entryOf = (host: string, items: HostItems | undefined) => {
    // A host of an item settled alone is that item's (see settleAlone); resolveItems names the rest.
    const owner = owners.get(host) ?? (items !== undefined && !Array.isArray(items) && items.accepted ? items : undefined);
    return hostEntries(host, items ?? NO_ITEMS, owner === undefined ? undefined : publishedOwner(owner, sharedOwners));
  };
  if (fresh) {
    // The entries of the hosts that have any, taken as the index's map as it is.
    const entries = new Map<string, HostEntry>();
    for (const [host, items] of state.hostItems) {
      const entry = entryOf(host, items);
      if (!isEmptyEntry(entry)) entries.set(host, entry);
    }
    state.hosts = HostIndex.adopt(entries);
    return;
  }
  const changes = new Map<string, HostEntry>();
  for (const host of hosts) changes.set(host, entryOf(host, state.hostItems.get(host)));
  state.hosts = state.hosts.with(changes);
}

/**
 * Settles the live items that share no host with any other item, as resolveItems would (each
 * owns its hosts and is accepted: there is nothing to compare it with), and returns the others
 * for resolveItems. On a first build of 10,000 containers with a host each, that is every item,
 * and resolving them took a sort and two maps of 10,000 entries.
 */
function settleAlone(items: readonly Item[], hostItems: ReadonlyMap<string, HostItems>): Item[] {
  const rest: Item[] = [];
  for (const item of items) {
    let sharesHost = item.candidate === null;
    for (let i = 0; !sharesHost && i < item.hosts.length; i++) sharesHost = Array.isArray(hostItems.get(item.hosts[i] as string));
    if (sharesHost) rest.push(item);
    else acceptAlone(item);
  }
  return rest;
}

/** What one settling takes out of and puts into the table's two sorted lists, applied at once. */
interface SortedListChanges {
  readonly routesOut: Route[];
  readonly routesIn: Route[];
  readonly publishedOut: ClosedClaim[];
  readonly publishedIn: ClosedClaim[];
}

function sortedListChanges(): SortedListChanges {
  return { routesOut: [], routesIn: [], publishedOut: [], publishedIn: [] };
}

/** Undoes what an item's last outcome put in the sorted lists (taken out by applySorted). */
function retract(state: State, item: Item, lists: SortedListChanges): void {
  if (item.accepted) lists.routesOut.push((item.candidate as Candidate).route);
  if (item.published !== null) lists.publishedOut.push(item.published);
  state.refused.delete(item);
  state.declaring.delete(item);
}

function tableOf(state: State): RouteTable {
  const all: SettledIssue[] = [...state.translator.settled];
  for (const item of state.refused) all.push(...item.issues);
  const oidc = oidcClientsOf(state);
  all.push(...oidc.issues.map(settle));
  all.sort((a, b) => compareStrings(a.json, b.json));
  const routes = Object.freeze(state.routes.slice());
  const closed = Object.freeze(state.published.slice());
  const issues = Object.freeze(all.map((entry) => entry.issue));
  const { byHost, claims, owners } = state.hosts;
  let fingerprint: string | undefined;
  state.table = Object.freeze({
    routes,
    issues,
    /** JSON.stringify({ routes, issues, closed, owners }), made when first read: routes and issues are canonical copies (see group.ts), so equal tables give equal strings. */
    get fingerprint(): string {
      fingerprint ??= JSON.stringify({ routes, issues, closed, owners: [...owners] });
      return fingerprint;
    },
    byHost,
    claims,
    closed,
    owners,
    oidcClients: oidc.clients,
  });
  return state.table;
}

/**
 * The apps' OpenID clients from the few accepted routes that declare one, in host precedence (the
 * oldest claim keeps a client id, as it keeps a host): a build without them costs nothing more.
 */
function oidcClientsOf(state: State): ReturnType<typeof indexOidcClients> {
  const declaring = [...state.declaring].sort(byItemPrecedence);
  return indexOidcClients(declaring.map((item) => (item.candidate as Candidate).route));
}

function declaresClient(item: Item): boolean {
  const { clientId, redirectUris } = (item.candidate as Candidate).route.oidc;
  return clientId !== null && redirectUris.length > 0;
}

/**
 * The first build's specs, with no previous build to compare with: each spec's route id, and
 * the members of each route. A spec listed twice counts once (the map's size tells, with no
 * lookup before each entry).
 */
function addFresh(state: State, specs: readonly RouteSpec[], now: number): void {
  const { seenSpecs, members, routesOf } = state;
  for (const spec of specs) {
    const id = routeIdOf(spec);
    const size = seenSpecs.size;
    seenSpecs.set(spec, { build: now, id });
    if (seenSpecs.size === size) continue;
    const list = members.get(id);
    if (list === undefined) members.set(id, [spec]);
    else list.push(spec);
    if (spec.source.kind === 'container') addValue(routesOf, spec.source.containerId, id);
  }
}

/** Whether `owners` still gives a live route the unit it was settled with; compared field by field, without making an owner object. */
function ownerUnchanged(item: Item, owners: ReadonlyMap<string, HostOwner>): boolean {
  const candidate = item.candidate as Candidate;
  const source = (candidate.members[candidate.members.length - 1] as RouteSpec).source;
  const owner = item.owner;
  const named = source.kind === 'container' ? owners.get(source.containerId) : undefined;
  if (named === undefined) {
    // The container (or file) alone, as soleOwner makes it.
    return source.kind === 'file'
      ? owner.kind === 'file' && owner.file === source.file
      : owner.kind === 'container' && owner.containerId === source.containerId && owner.containerName === source.containerName;
  }
  return sameOwner(owner, named);
}

/**
 * Specs → one frozen table, from scratch. Replicas merge into one route; when two routes claim
 * the same host + path, the older claim keeps it (see resolveItems).
 */
export function buildRouteTable(specs: readonly RouteSpec[], issues: readonly RouteIssue[], claims: ClaimInputs = NO_CLAIMS): RouteTable {
  return createRouteTableBuilder().build(specs, issues, claims);
}
