import type { Route } from './table.ts';
import type { RouteSource, RouteSpec, UpstreamTarget } from './spec.ts';
import { canonicalJson, compareStrings } from './canonical.ts';
import { copyHeaders, copyKeyFields, copySource, copyUpstream, EMPTY_LIST, frozen, frozenCanonical, ROUTE_SHAPE } from './copies.ts';
import type { PomeriumRoute } from './pomerium.ts';

/** One route before conflicts are settled: the merged Route plus what ordering and messages need. */
export interface Candidate {
  /** Frozen all the way down. */
  readonly route: Route;
  /** `<host> <path>` for each host: the addresses the route claims. */
  readonly claims: readonly string[];
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
  if (source.kind === 'file') return `file:${source.file}#${source.index}`;
  // Groups from labels already say their kind (`container:<id>`, `compose:…`, `swarm:…`);
  // prefixing them again made ids like `container:container:<id>/default`.
  return KIND_PREFIX.test(source.group) ? `${source.group}/${spec.routeName}` : `container:${source.group}/${spec.routeName}`;
}

const KIND_PREFIX = /^(container|compose|swarm):/;

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

/** Route id → the specs that claim it, in input order. */
export function groupSpecs(specs: readonly RouteSpec[], idOf: (spec: RouteSpec) => string = routeIdOf): Map<string, RouteSpec[]> {
  const groups = new Map<string, RouteSpec[]>();
  for (const spec of specs) {
    const id = idOf(spec);
    const members = groups.get(id);
    if (members) members.push(spec);
    else groups.set(id, [spec]);
  }
  return groups;
}

/** Higher precedence first: file routes (by file, index), then the oldest container claim, then id. */
export function byPrecedence(a: Candidate, b: Candidate): number {
  if (a.isFile !== b.isFile) return a.isFile ? -1 : 1;
  if (a.isFile) return compareStrings(a.file, b.file) || a.index - b.index || compareStrings(a.route.id, b.route.id);
  return a.claimedAt - b.claimedAt || compareStrings(a.route.id, b.route.id);
}

/**
 * The members of one route id → one frozen route. Depends on the members alone, never on their
 * order. `shared`: small values equal to ones of other routes merged in the same build are shared (see frozenCanonical).
 */
export function mergeGroup(id: string, group: readonly RouteSpec[], shared?: Map<string, object>): Candidate {
  const members = group.length === 1 ? group : [...group].sort(newestFirst);
  const lead = members[0] as RouteSpec;
  const upstreams = new Map<string, UpstreamTarget>();
  const sources = new Map<string, RouteSource>();
  let claimedAt = Number.POSITIVE_INFINITY;
  for (const member of members) {
    if (!upstreams.has(member.upstream.origin)) upstreams.set(member.upstream.origin, copyUpstream(member.upstream));
    const key = sourceKey(member.source);
    if (!sources.has(key)) sources.set(key, copySource(member.source));
    claimedAt = Math.min(claimedAt, createdOf(member));
  }
  const sortedUpstreams = [...upstreams.values()].sort((a, b) => compareStrings(a.origin, b.origin));
  const sortedSources = [...sources.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, source]) => source);
  // Frozen all the way down, and every object in it has a fixed key order (see copies.ts), so
  // JSON.stringify(route) is a canonical form: equal routes give equal strings.
  // Built by assignment in one fixed order (a spread in the middle of a literal is a slow path).
  const draft: Record<string, unknown> = { ...ROUTE_SHAPE };
  draft.id = id;
  draft.hosts = frozen([...new Set(lead.hosts)]);
  draft.fromScheme = lead.fromScheme;
  copyKeyFields(lead, draft, shared);
  draft.setHeaders = copyHeaders(lead.setHeaders);
  draft.removeHeaders = lead.removeHeaders.length === 0 ? EMPTY_LIST : frozen([...lead.removeHeaders]);
  draft.upstreams = frozen(sortedUpstreams);
  // Usually every member is ready: then the two lists are one (frozen, so sharing is safe).
  draft.ready = sortedUpstreams.every((target) => target.ready) ? draft.upstreams : frozen(sortedUpstreams.filter((target) => target.ready));
  draft.sources = frozen(sortedSources);
  if (lead.pomerium !== undefined) draft.pomerium = frozenPomerium(lead.pomerium);
  const route = frozen(draft) as unknown as Route;
  const source = lead.source;
  return {
    route,
    // A space can occur in neither a host name nor a normalised path.
    claims: route.hosts.map((host) => `${host} ${route.path}${claimSuffix(route.pomerium)}`),
    routeName: lead.routeName,
    members,
    isFile: source.kind === 'file',
    claimedAt,
    file: source.kind === 'file' ? source.file : '',
    index: source.kind === 'file' ? source.index : 0,
  };
}

function frozenPomerium(settings: PomeriumRoute): PomeriumRoute {
  return frozenCanonical(settings) as PomeriumRoute;
}

/**
 * What sets a Pomerium route's address apart beyond host and path: its port, and an exact path
 * or a pattern claims something other than the prefix of the same text. Label routes: nothing.
 */
function claimSuffix(settings: PomeriumRoute | undefined): string {
  if (settings === undefined) return '';
  const port = settings.port === null ? '' : ` port=${settings.port}`;
  const match = settings.match === 'regex' ? ` regex=${settings.regex}` : settings.match === 'path' ? ' exact' : '';
  return port + match;
}
