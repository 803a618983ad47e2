import type { Route, RouteTable } from './table.ts';
import type { RouteIssue, RouteSpec } from './spec.ts';
import type { Candidate } from './group.ts';
import { describeOwner, ownerKey, soleOwner, type Claim, type ClosedClaim, type ClosedClaimSpec, type HostOwner } from './claims.ts';
import { deepFreeze } from '../util/deep-freeze.ts';
import { canonicalCopy, compareStrings, FrozenMap } from './canonical.ts';
import { pomeriumRank } from './pomerium.ts';
import { indexOidcClients } from './oidc-clients.ts';

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
}

export const NO_CLAIMS: ClaimInputs = Object.freeze({ closed: Object.freeze([]), owners: new Map() });

/**
 * Merged routes and closed claims → one frozen table, in two steps.
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
 */
export function assembleTable(
  candidates: readonly Candidate[],
  translatorIssues: readonly SettledIssue[],
  inputs: ClaimInputs = NO_CLAIMS,
): RouteTable {
  const allIssues = [...translatorIssues];
  const items: Item[] = [
    ...candidates.map((candidate): Item => liveItem(candidate, inputs.owners)),
    ...inputs.closed.map((spec): Item => closedItem(spec)),
  ].sort(byItemPrecedence);

  const owners = new Map<string, { owner: HostOwner; key: string }>();
  const owned: Item[] = [];
  for (const item of items) {
    const foreign = item.hosts.find((host) => {
      const holder = owners.get(host);
      return holder !== undefined && holder.key !== item.ownerKey;
    });
    if (foreign !== undefined) {
      if (item.candidate !== null) allIssues.push(...ownershipIssues(item.candidate, foreign, (owners.get(foreign) as { owner: HostOwner }).owner).map(settle));
      continue;
    }
    for (const host of item.hosts) if (!owners.has(host)) owners.set(host, { owner: deepFreeze(canonicalCopy(item.owner)), key: item.ownerKey });
    owned.push(item);
  }

  const claims = new Map<string, Item>();
  const accepted: Candidate[] = [];
  const closed: ClosedClaim[] = [];
  for (const item of owned) {
    const candidate = item.candidate;
    if (candidate === null) continue;
    const claimed = candidate.claims.findIndex((claim) => claims.has(claim));
    if (claimed !== -1) {
      const holder = (claims.get(candidate.claims[claimed] as string) as Item).candidate as Candidate;
      allIssues.push(...conflictIssues(candidate, holder, candidate.route.hosts[claimed] as string).map(settle));
      continue;
    }
    for (const claim of candidate.claims) claims.set(claim, item);
    accepted.push(candidate);
  }
  for (const item of owned) {
    const spec = item.closed;
    if (spec === null) continue;
    const free = spec.hosts.filter((host) => !claims.has(`${host} ${spec.path}`));
    if (free.length === 0) continue;
    const published = publishClosed(spec, free, item.owner);
    for (const host of free) claims.set(`${host} ${published.path}`, item);
    closed.push(published);
  }

  // In precedence order, before sorting: the oldest claim keeps a client id, as it keeps a host.
  const oidc = indexOidcClients(accepted.map((candidate) => candidate.route));
  allIssues.push(...oidc.issues.map(settle));
  accepted.sort((a, b) => compareStrings(a.route.id, b.route.id));
  closed.sort((a, b) => compareStrings(a.id, b.id));
  allIssues.sort((a, b) => compareStrings(a.json, b.json));
  const routes = Object.freeze(accepted.map((candidate) => candidate.route));
  const frozenClosed = Object.freeze(closed);
  const ownerMap = new FrozenMap([...owners.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([host, { owner }]) => [host, owner] as const));
  return Object.freeze({
    routes,
    issues: Object.freeze(allIssues.map((settled) => settled.issue)),
    fingerprint: fingerprintOf(accepted, allIssues, frozenClosed, ownerMap),
    byHost: indexByHost(routes),
    claims: indexClaims(routes, frozenClosed),
    closed: frozenClosed,
    owners: ownerMap,
    oidcClients: oidc.clients,
  });
}

/** A live candidate or a closed claim, with what ownership needs of either. */
interface Item {
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
}

function liveItem(candidate: Candidate, owners: ReadonlyMap<string, HostOwner>): Item {
  // Members of one route share a replica group, and so a unit: the oldest one names it.
  const source = (candidate.members[candidate.members.length - 1] as RouteSpec).source;
  const owner = source.kind === 'container' ? (owners.get(source.containerId) ?? soleOwner(source)) : soleOwner(source);
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
  };
}

function closedItem(spec: ClosedClaimSpec): Item {
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
  };
}

export function closedIdOf(spec: Pick<ClosedClaimSpec, 'source' | 'routeName'>): string {
  const source = spec.source;
  return source.kind === 'container' ? `container:${source.containerId}/${spec.routeName}` : `file:${source.file}#${source.index}`;
}

/** The routes file first (by file, index), then the oldest container claim; live before closed on a tie. */
function byItemPrecedence(a: Item, b: Item): number {
  if (a.isFile !== b.isFile) return a.isFile ? -1 : 1;
  const order = a.isFile ? compareStrings(a.file, b.file) || a.index - b.index : a.claimedAt - b.claimedAt;
  return order || (a.candidate === null ? 1 : 0) - (b.candidate === null ? 1 : 0) || compareStrings(a.id, b.id);
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

/**
 * JSON.stringify({ routes, issues }), put together from the parts' cached JSON: routes and
 * issues are canonical copies (see group.ts), so equal tables give equal strings. Concatenation
 * links the cached strings instead of copying them; the engine copies only if the result is
 * ever flattened.
 */
function fingerprintOf(
  routes: readonly Candidate[],
  issues: readonly SettledIssue[],
  closed: readonly ClosedClaim[],
  owners: ReadonlyMap<string, HostOwner>,
): string {
  let json = '{"routes":[';
  for (let i = 0; i < routes.length; i++) json += i === 0 ? (routes[i] as Candidate).json : `,${(routes[i] as Candidate).json}`;
  json += '],"issues":[';
  for (let i = 0; i < issues.length; i++) json += i === 0 ? (issues[i] as SettledIssue).json : `,${(issues[i] as SettledIssue).json}`;
  // Closed claims and owners are few and small next to the routes: serialised whole.
  return `${json}],"closed":${JSON.stringify(closed)},"owners":${JSON.stringify([...owners])}}`;
}

/** host → live and closed claims, longest path first; on equal paths (aliases) the id decides. */
function indexClaims(routes: readonly Route[], closed: readonly ClosedClaim[]): FrozenMap<string, readonly Claim[]> {
  const byHost = new Map<string, { claim: Claim; id: string }[]>();
  const add = (host: string, claim: Claim, id: string) => {
    const list = byHost.get(host);
    if (list) list.push({ claim, id });
    else byHost.set(host, [{ claim, id }]);
  };
  for (const route of routes) for (const host of route.hosts) add(host, Object.freeze({ state: 'live', path: route.path, route }), route.id);
  for (const claim of closed) {
    for (const host of claim.hosts) add(host, Object.freeze({ state: claim.state, path: claim.path, route: null, closed: claim }), claim.id);
  }
  const entries: [string, readonly Claim[]][] = [];
  for (const [host, list] of byHost) {
    list.sort((a, b) => bySpecificity(a.claim, b.claim) || compareStrings(a.claim.path, b.claim.path) || compareStrings(a.id, b.id));
    entries.push([host, Object.freeze(list.map((entry) => entry.claim))]);
  }
  return new FrozenMap(entries.sort(([a], [b]) => compareStrings(a, b)));
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

function indexByHost(routes: readonly Route[]): FrozenMap<string, readonly Route[]> {
  const byHost = new Map<string, Route[]>();
  for (const route of routes) {
    for (const host of route.hosts) {
      const list = byHost.get(host);
      if (list) list.push(route);
      else byHost.set(host, [route]);
    }
  }
  for (const list of byHost.values()) {
    list.sort((a, b) => b.path.length - a.path.length || compareStrings(a.path, b.path) || compareStrings(a.id, b.id));
    Object.freeze(list);
  }
  return new FrozenMap([...byHost.entries()].sort(([a], [b]) => compareStrings(a, b)));
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
