import type { Route } from './table.ts';
import type { RouteSource, RouteSpec, UpstreamTarget } from './spec.ts';
import { canonicalJson, compareStrings } from './canonical.ts';
import { copyHeaders, copyHosts, copyKeyField, copyList, copyPolicy, copySource, copyUpstream, frozen, frozenCanonical, KEY_FIELD_TOPS, type SharedParts } from './copies.ts';
import type { PomeriumRoute } from './pomerium.ts';

/** One route before conflicts are settled: the merged Route plus what ordering and messages need. */
export interface Candidate {
  /** Frozen all the way down. */
  readonly route: Route;
  /** `<host> <path>` for each host, once asked for (see claimsOf): most routes are never compared with another. */
  claims: readonly string[] | null;
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
  // One flat string, made by join. Read as it is made: reading the group itself (a regular
  // expression, indexOf, a comparison) would make V8 flatten it into a second copy of its text,
  // kept by every route's source; the id is read anyway (sorting, lookups).
  const id = [source.group, spec.routeName].join('/');
  // Groups from labels already say their kind (`container:<id>`, `compose:…`, `swarm:…`);
  // prefixing them again made ids like `container:container:<id>/default`.
  return hasKindPrefix(id) ? id : `container:${id}`;
}

const KINDS: ReadonlySet<string> = new Set(['container', 'compose', 'swarm']);

/**
 * Whether the text starts with `container:`, `compose:` or `swarm:`. Of `<group>/<route>` this
 * is whether the group does: no kind has a `/`, so a prefix that ends in the route name is none.
 */
function hasKindPrefix(text: string): boolean {
  const colon = text.indexOf(':');
  return colon > 0 && colon <= 9 && KINDS.has(text.slice(0, colon));
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
export function mergeGroup(id: string, group: readonly RouteSpec[], shared?: SharedParts): Candidate {
  const members = group.length === 1 ? group : [...group].sort(newestFirst);
  const lead = members[0] as RouteSpec;
  let upstreams: readonly UpstreamTarget[];
  let sources: readonly RouteSource[];
  let claimedAt: number;
  if (members.length === 1) {
    // Most routes have one member: no maps and no sorting for them. A translated spec's upstream
    // and source are taken as they are (see copies.ts): only the two lists are made.
    upstreams = frozen([copyUpstream(lead.upstream)]);
    sources = frozen([copySource(lead.source)]);
    claimedAt = createdOf(lead);
  } else {
    const byOrigin = new Map<string, UpstreamTarget>();
    const bySource = new Map<string, RouteSource>();
    claimedAt = Number.POSITIVE_INFINITY;
    for (const member of members) {
      if (!byOrigin.has(member.upstream.origin)) byOrigin.set(member.upstream.origin, copyUpstream(member.upstream));
      const key = sourceKey(member.source);
      if (!bySource.has(key)) bySource.set(key, copySource(member.source));
      claimedAt = Math.min(claimedAt, createdOf(member));
    }
    upstreams = frozen([...byOrigin.values()].sort((a, b) => compareStrings(a.origin, b.origin)));
    sources = frozen([...bySource.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, source]) => source));
  }
  const route = routeOf(id, lead, upstreams, sources, shared);
  const source = lead.source;
  return {
    route,
    claims: null,
    routeName: lead.routeName,
    members,
    isFile: source.kind === 'file',
    claimedAt,
    file: source.kind === 'file' ? source.file : '',
    index: source.kind === 'file' ? source.index : 0,
  };
}

/**
 * The frozen route of a group led by `lead`. Frozen all the way down, and every object in it has
 * a fixed key order (see copies.ts), so JSON.stringify(route) is a canonical form: equal routes
 * give equal strings. One object literal with every field, in the order the table has always
 * listed them (ROUTE_FIELDS): its fields live in the object itself, where a copy of a shape
 * filled in by assignment kept them in a separate property store (about 30 B more per route,
 * and slower to fill). A key field added to the key table after this literal was written still
 * gets its field (KEY_FIELDS_OUTSIDE_LITERAL), only not in the object.
 */
function routeOf(id: string, lead: RouteSpec, upstreams: readonly UpstreamTarget[], sources: readonly RouteSource[], shared?: SharedParts): Route {
  const draft = {
    id,
    hosts: copyHosts(lead.hosts),
    fromScheme: lead.fromScheme,
    path: lead.path,
    stripPath: lead.stripPath,
    policy: copyPolicy(lead.policy, shared),
    identity: lead.identity,
    hostHeader: copyKeyField('hostHeader', lead.hostHeader, shared),
    websockets: lead.websockets,
    wsOrigins: copyKeyField('wsOrigins', lead.wsOrigins, shared),
    timeoutMs: lead.timeoutMs,
    idleTimeoutMs: lead.idleTimeoutMs,
    tlsSkipVerify: lead.tlsSkipVerify,
    health: lead.health,
    lb: lead.lb,
    basicAuth: lead.basicAuth,
    bearer: lead.bearer,
    display: copyKeyField('display', lead.display, shared),
    access: copyKeyField('access', lead.access, shared),
    mode: lead.mode,
    oidc: copyKeyField('oidc', lead.oidc, shared),
    responseHeaders: copyKeyField('responseHeaders', lead.responseHeaders, shared),
    hsts: lead.hsts,
    redirect: lead.redirect,
    setHeaders: copyHeaders(lead.setHeaders),
    removeHeaders: copyList(lead.removeHeaders),
    upstreams,
    // Usually every member is ready: then the two lists are one (frozen, so sharing is safe).
    ready: upstreams.every((target) => target.ready) ? upstreams : frozen(upstreams.filter((target) => target.ready)),
    sources,
  } satisfies Record<(typeof ROUTE_FIELDS)[number], unknown>;
  if (KEY_FIELDS_OUTSIDE_LITERAL.length !== 0) {
    const into = draft as Record<string, unknown>;
    for (const top of KEY_FIELDS_OUTSIDE_LITERAL) into[top] = copyKeyField(top, (lead as unknown as Record<string, unknown>)[top], shared);
  }
  if (lead.pomerium !== undefined) (draft as Record<string, unknown>).pomerium = frozenPomerium(lead.pomerium);
  return frozen(draft) as unknown as Route;
}

/** The fields the route literal above spells, in its order; a key field missing here is added after them. */
const ROUTE_FIELDS = [
  'id', 'hosts', 'fromScheme', 'path', 'stripPath', 'policy', 'identity', 'hostHeader', 'websockets', 'wsOrigins', 'timeoutMs', 'idleTimeoutMs',
  'tlsSkipVerify', 'health', 'lb', 'basicAuth', 'bearer', 'display', 'access', 'mode', 'oidc', 'responseHeaders', 'hsts', 'redirect',
  'setHeaders', 'removeHeaders', 'upstreams', 'ready', 'sources',
] as const;

const KEY_FIELDS_OUTSIDE_LITERAL: readonly string[] = Object.freeze(KEY_FIELD_TOPS.filter((top) => !(ROUTE_FIELDS as readonly string[]).includes(top)));

/** The addresses a route claims, `<host> <path>` for each host, made the first time they are asked for. */
export function claimsOf(candidate: Candidate): readonly string[] {
  if (candidate.claims !== null) return candidate.claims;
  const { hosts, path } = candidate.route;
  const suffix = claimSuffix(candidate.route.pomerium);
  // A space can occur in neither a host name nor a normalised path.
  candidate.claims = hosts.length === 1 ? [`${hosts[0] as string} ${path}${suffix}`] : hosts.map((host) => `${host} ${path}${suffix}`);
  return candidate.claims;
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
