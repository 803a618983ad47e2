import type { Route, RouteTable } from './table.ts';
import type { RouteIssue, RouteSpec } from './spec.ts';
import { byPrecedence, type Candidate } from './group.ts';
import { deepFreeze } from '../util/deep-freeze.ts';
import { canonicalCopy, compareStrings, FrozenMap } from './canonical.ts';

/** A frozen canonical copy of an issue and its JSON, the key issues are sorted by. */
export interface SettledIssue {
  readonly issue: RouteIssue;
  readonly json: string;
}

export function settle(issue: RouteIssue): SettledIssue {
  const copy = deepFreeze(canonicalCopy(issue));
  return { issue: copy, json: JSON.stringify(copy) };
}

/**
 * Merged routes → one frozen table. When two routes claim the same host + path, the older
 * claim keeps it and the newcomer is left out entirely, so a container started later can
 * never take over a name that is already served.
 */
export function assembleTable(candidates: readonly Candidate[], translatorIssues: readonly SettledIssue[]): RouteTable {
  const claims = new Map<string, Candidate>();
  const accepted: Candidate[] = [];
  const allIssues = [...translatorIssues];
  for (const candidate of [...candidates].sort(byPrecedence)) {
    const claimed = candidate.claims.findIndex((claim) => claims.has(claim));
    if (claimed !== -1) {
      const holder = claims.get(candidate.claims[claimed] as string) as Candidate;
      allIssues.push(...conflictIssues(candidate, holder, candidate.route.hosts[claimed] as string).map(settle));
      continue;
    }
    for (const claim of candidate.claims) claims.set(claim, candidate);
    accepted.push(candidate);
  }
  accepted.sort((a, b) => compareStrings(a.route.id, b.route.id));
  allIssues.sort((a, b) => compareStrings(a.json, b.json));
  const routes = Object.freeze(accepted.map((candidate) => candidate.route));
  return Object.freeze({
    routes,
    issues: Object.freeze(allIssues.map((settled) => settled.issue)),
    fingerprint: fingerprintOf(accepted, allIssues),
    byHost: indexByHost(routes),
  });
}

/**
 * JSON.stringify({ routes, issues }), put together from the parts' cached JSON: routes and
 * issues are canonical copies (see group.ts), so equal tables give equal strings. Concatenation
 * links the cached strings instead of copying them; the engine copies only if the result is
 * ever flattened.
 */
function fingerprintOf(routes: readonly Candidate[], issues: readonly SettledIssue[]): string {
  let json = '{"routes":[';
  for (let i = 0; i < routes.length; i++) json += i === 0 ? (routes[i] as Candidate).json : `,${(routes[i] as Candidate).json}`;
  json += '],"issues":[';
  for (let i = 0; i < issues.length; i++) json += i === 0 ? (issues[i] as SettledIssue).json : `,${(issues[i] as SettledIssue).json}`;
  return `${json}]}`;
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
