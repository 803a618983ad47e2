import type { Route } from './table.ts';
import type { RoutePolicy, RouteSource, RouteSpec, UpstreamTarget } from './spec.ts';
import { canonicalCopy, canonicalJson, compareStrings } from './canonical.ts';

/** One route before conflicts are settled: the merged Route plus what ordering and messages need. */
export interface Candidate {
  readonly route: Route;
  readonly routeName: string;
  /** Members, newest first: the first one set the route's settings. */
  readonly members: readonly RouteSpec[];
  /** File routes outrank containers; among containers the oldest member dates the claim. */
  readonly isFile: boolean;
  readonly claimedAt: number;
  readonly file: string;
  readonly index: number;
}

export function routeIdOf(spec: RouteSpec): string {
  const source = spec.source;
  return source.kind === 'container' ? `container:${source.group}/${spec.routeName}` : `file:${source.file}#${source.index}`;
}

function sourceKey(source: RouteSource): string {
  return source.kind === 'container' ? `container:${source.containerId}` : `file:${source.file}#${source.index}`;
}

function createdOf(spec: RouteSpec): number {
  return spec.source.kind === 'container' ? spec.source.created : 0;
}

/** Newest first; ties broken by source, then by content, so input order never matters. */
function newestFirst(a: RouteSpec, b: RouteSpec): number {
  return (
    createdOf(b) - createdOf(a) ||
    compareStrings(sourceKey(a.source), sourceKey(b.source)) ||
    compareStrings(canonicalJson(a), canonicalJson(b))
  );
}

export function groupSpecs(specs: readonly RouteSpec[]): Candidate[] {
  const groups = new Map<string, RouteSpec[]>();
  for (const spec of specs) {
    const id = routeIdOf(spec);
    const members = groups.get(id);
    if (members) members.push(spec);
    else groups.set(id, [spec]);
  }
  const candidates: Candidate[] = [];
  for (const [id, members] of groups) candidates.push(mergeGroup(id, members.sort(newestFirst)));
  return candidates;
}

/** Higher precedence first: file routes (by file, index), then the oldest container claim, then id. */
export function byPrecedence(a: Candidate, b: Candidate): number {
  if (a.isFile !== b.isFile) return a.isFile ? -1 : 1;
  if (a.isFile) return compareStrings(a.file, b.file) || a.index - b.index || compareStrings(a.route.id, b.route.id);
  return a.claimedAt - b.claimedAt || compareStrings(a.route.id, b.route.id);
}

function mergeGroup(id: string, members: RouteSpec[]): Candidate {
  const lead = members[0] as RouteSpec;
  const upstreams = new Map<string, UpstreamTarget>();
  const sources = new Map<string, RouteSource>();
  let claimedAt = Number.POSITIVE_INFINITY;
  for (const member of members) {
    if (!upstreams.has(member.upstream.origin)) upstreams.set(member.upstream.origin, copyUpstream(member.upstream));
    const key = sourceKey(member.source);
    if (!sources.has(key)) sources.set(key, canonicalCopy(member.source));
    claimedAt = Math.min(claimedAt, createdOf(member));
  }
  const sortedUpstreams = [...upstreams.values()].sort((a, b) => compareStrings(a.origin, b.origin));
  const sortedSources = [...sources.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, source]) => source);
  // Fixed key order here and canonical copies of the free-form parts keep JSON.stringify(route) canonical.
  const route: Route = {
    id,
    hosts: [...new Set(lead.hosts)],
    fromScheme: lead.fromScheme,
    path: lead.path,
    stripPath: lead.stripPath,
    policy: copyPolicy(lead.policy),
    identity: lead.identity,
    setHeaders: canonicalCopy(lead.setHeaders),
    removeHeaders: [...lead.removeHeaders],
    hostHeader: canonicalCopy(lead.hostHeader),
    websockets: lead.websockets,
    timeoutMs: lead.timeoutMs,
    idleTimeoutMs: lead.idleTimeoutMs,
    tlsSkipVerify: lead.tlsSkipVerify,
    lb: lead.lb,
    display: { name: lead.display.name, icon: lead.display.icon, description: lead.display.description },
    upstreams: sortedUpstreams,
    ready: sortedUpstreams.filter((target) => target.ready),
    sources: sortedSources,
  };
  const source = lead.source;
  return {
    route,
    routeName: lead.routeName,
    members,
    isFile: source.kind === 'file',
    claimedAt,
    file: source.kind === 'file' ? source.file : '',
    index: source.kind === 'file' ? source.index : 0,
  };
}

function copyPolicy(policy: RoutePolicy): RoutePolicy {
  return {
    public: policy.public,
    allow: policy.allow.map(canonicalCopy),
    deny: policy.deny.map(canonicalCopy),
    bypass: policy.bypass.map((rule) => ({ method: rule.method, path: rule.path })),
    corsPreflight: policy.corsPreflight,
  };
}

function copyUpstream(target: UpstreamTarget): UpstreamTarget {
  return { origin: target.origin, containerId: target.containerId, ready: target.ready, state: target.state };
}
