import type { Route, RouteTable } from './table.ts';
import type { RouteIssue, RouteSpec } from './spec.ts';
import { byPrecedence, groupSpecs, type Candidate } from './group.ts';
import { canonicalCopy, compareStrings, deepFreeze, FrozenMap } from './canonical.ts';

/**
 * Specs → one frozen table. Replicas merge into one route; when two routes claim the same
 * host + path, the older claim keeps it and the newcomer is left out entirely, so a container
 * started later can never take over a name that is already served.
 */
export function buildRouteTable(specs: readonly RouteSpec[], issues: readonly RouteIssue[]): RouteTable {
  const candidates = groupSpecs(specs).sort(byPrecedence);
  const claims = new Map<string, Candidate>();
  const accepted: Route[] = [];
  const allIssues: RouteIssue[] = issues.map(canonicalCopy);

  for (const candidate of candidates) {
    const { hosts, path } = candidate.route;
    let holder: Candidate | undefined;
    let claimedHost = '';
    for (const host of hosts) {
      holder = claims.get(claimKey(host, path));
      if (holder) {
        claimedHost = host;
        break;
      }
    }
    if (holder) {
      allIssues.push(...conflictIssues(candidate, holder, claimedHost).map(canonicalCopy));
      continue;
    }
    for (const host of hosts) claims.set(claimKey(host, path), candidate);
    accepted.push(candidate.route);
  }

  const routes = accepted.sort((a, b) => compareStrings(a.id, b.id));
  const sortedIssues = allIssues
    .map((issue) => [JSON.stringify(issue), issue] as const)
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([, issue]) => issue);
  deepFreeze(routes);
  deepFreeze(sortedIssues);
  return Object.freeze({
    routes,
    issues: sortedIssues,
    // Routes and issues are canonical copies (see group.ts), so plain JSON is a canonical form.
    fingerprint: JSON.stringify({ routes, issues: sortedIssues }),
    byHost: indexByHost(routes),
  });
}

function claimKey(host: string, path: string): string {
  // A space can occur in neither a host name nor a normalised path.
  return `${host} ${path}`;
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

/** One issue per member of the rejected route, each naming the route that keeps the address. */
function conflictIssues(newcomer: Candidate, holder: Candidate, host: string): RouteIssue[] {
  const url = `${newcomer.route.fromScheme}://${host}${newcomer.route.path}`;
  // The oldest member dates the holder's claim, so it is the one to name.
  const holderName = describe(holder, holder.members[holder.members.length - 1] as RouteSpec);
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
      message: `${url} is already served by ${holderName}; ${loser} route ${newcomer.routeName} was not published`,
    };
  });
}
