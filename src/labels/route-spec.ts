import type { RouteSource, RouteSpec, SharedParts, UpstreamTarget } from '../routes/index.ts';
import { copyHeaders, copyHosts, copyList, copySource, copyUpstream, defaultKeyGroup, frozenCanonical, sharedCanonical } from '../routes/index.ts';
import { FIELD_KEYS, keyDef, type KeyFields, type RouteSettings, type ValueKey } from './key-table.ts';
import type { FromValue } from './urls.ts';

/** What a translator knows about one route once every value has parsed; defaults are applied here. */
export interface RouteParts {
  source: RouteSource;
  routeName: string;
  from: FromValue;
  settings: Partial<RouteSettings>;
  setHeaders: Record<string, string>;
  removeHeaders: string[];
  upstream: UpstreamTarget;
  /** Used when `name` is not set. */
  defaultName: string;
}

export const DEFAULT_TIMEOUT_MS = keyDef('timeout').default as number;

/** Values are plain data, never changed in place once parsed: a copy of the outer array or object is enough. */
function shallowCopy(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  return value !== null && typeof value === 'object' ? { ...value } : value;
}

/** How to fill one field: the key, where it goes, and its default, frozen once and shared. */
interface FieldPlan {
  readonly name: ValueKey;
  readonly top: string;
  /** The nested name (`allow` of `policy.allow`); null for a plain field. */
  readonly inner: string | null;
  readonly fallback: unknown;
}

const PLAN: readonly FieldPlan[] = FIELD_KEYS.map(([name, path]) => ({
  name,
  top: path[0] as string,
  inner: path.length === 1 ? null : (path[1] as string),
  // A default that is a list or record is frozen and shared by every spec that leaves the key
  // unset (most keys, on most routes); the table builder takes it as it is rather than copying it.
  fallback: sharedCanonical(keyDef(name).default),
}));

/**
 * The key fields in key-table order with every field present, and each group's fields the same:
 * copies of these (`{ ...shape }`) share one hidden class, where adding fields one by one to
 * `{}` made a slower object per spec. A group's fields are in sorted order, the order the route
 * table's canonical copy gives them, so the table builder finds them in order and sorts nothing.
 */
const FIELDS_SHAPE: Readonly<Record<string, undefined>> = Object.freeze(Object.fromEntries(PLAN.map((plan) => [plan.top, undefined])));
const GROUP_SHAPES: ReadonlyArray<readonly [string, Readonly<Record<string, undefined>>]> = Object.freeze(
  [...new Set(PLAN.filter((plan) => plan.inner !== null).map((plan) => plan.top))].map(
    (group) =>
      [
        group,
        Object.freeze(
          Object.fromEntries(
            PLAN.filter((plan) => plan.top === group)
              .map((plan) => plan.inner as string)
              .sort()
              .map((inner) => [inner, undefined]),
          ),
        ),
      ] as const,
  ),
);

/**
 * Each key-filled field: the value set (copied, so specs never share a list they were given),
 * else the key's default (one frozen value shared by every spec).
 */
export function keyFields(settings: Partial<RouteSettings>, defaultName: string): KeyFields {
  const fields: Record<string, unknown> = { ...FIELDS_SHAPE };
  for (const [group, shape] of GROUP_SHAPES) fields[group] = { ...shape };
  for (const plan of PLAN) {
    const set = settings[plan.name];
    const value = set ?? (plan.name === 'name' ? defaultName : plan.fallback);
    const copy = set === undefined || set === null ? value : shallowCopy(value);
    if (plan.inner === null) fields[plan.top] = copy;
    else (fields[plan.top] as Record<string, unknown>)[plan.inner] = copy;
  }
  return fields as KeyFields;
}

/** Each key's default, as PLAN has it (frozen and shared where it is a list or record). */
const FALLBACK = Object.fromEntries(PLAN.map((plan) => [plan.name, plan.fallback])) as { readonly [K in ValueKey]: RouteSettings[K] };

/**
 * The value set for a key as a frozen canonical copy (so specs never share a list they were given,
 * and the route table takes it as it is; list items equal within `shared` are one object), else
 * its default. A value already frozen and canonical is taken as it is.
 */
function pick<T>(set: T | null | undefined, fallback: T, shared: SharedParts | undefined): T {
  return set === undefined || set === null ? fallback : (frozenCanonical(set, shared) as T);
}

/** The keys the spec literal below fills; a key added to the key table later is filled after it (EXTRA_PLANS). */
const LITERAL_KEYS: ReadonlySet<ValueKey> = new Set<ValueKey>([
  'path', 'strip_path', 'allow', 'bypass', 'cors_preflight', 'deny', 'public', 'identity', 'host', 'websockets', 'ws_origins', 'timeout',
  'idle_timeout', 'tls_skip_verify', 'health', 'lb', 'basic_auth', 'bearer', 'description', 'group', 'icon', 'name', 'max_age', 'mfa',
  'networks', 'providers', 'trusted_networks', 'mode', 'oidc.client_id', 'oidc.redirect_uris', 'oidc.client_secret', 'response_header', 'hsts',
  'redirect',
]);
const EXTRA_PLANS: readonly FieldPlan[] = Object.freeze(PLAN.filter((plan) => !LITERAL_KEYS.has(plan.name)));

/**
 * The frozen group the route table shares among routes that leave every key of it at its
 * default, for the specs that do so too (most specs set no `access.*` or `oidc.*` key): one
 * object for all of them rather than one each. Not when a key of the group is filled outside
 * the literal below (EXTRA_PLANS), which could not add it to a frozen object.
 */
function sharedDefault(group: string): object | undefined {
  return EXTRA_PLANS.some((plan) => plan.top === group) ? undefined : defaultKeyGroup(group);
}
const DEFAULT_POLICY = sharedDefault('policy') as RouteSpec['policy'] | undefined;
const DEFAULT_ACCESS = sharedDefault('access') as RouteSpec['access'] | undefined;
const DEFAULT_OIDC = sharedDefault('oidc') as RouteSpec['oidc'] | undefined;

/** The groups of key fields (`policy`, `display`, …): frozen once filled. */
const GROUPS: readonly string[] = Object.freeze(GROUP_SHAPES.map(([group]) => group));

/** Object.freeze, or nothing when keys outside the literal are still to be added (see buildRouteSpec). */
const sealGroup: <T extends object>(group: T) => T = EXTRA_PLANS.length === 0 ? Object.freeze : (group) => group;

/**
 * One object literal with every field, in the order specs have always listed them (structural
 * fields, then the key fields in key-table order, each group's fields sorted): its fields live in
 * the object itself, where a copy of a shape filled in by assignment kept them in a separate
 * store, and no intermediate object of key fields is made. `keyFields` gives the same key fields
 * (a test compares them).
 *
 * Every part (source, hosts, upstream, policy and its entries, display, …) is made frozen and in
 * the canonical form the route table holds (routes/copies.ts), so the table takes each part as it
 * is rather than copying it: at 10,000 containers a spec and its route share one policy, one
 * upstream, one source, one host list. `shared`: one per translation, so equal small list items
 * (10,000 containers allowing `@example.org`) are one frozen entry.
 */
export function buildRouteSpec(parts: RouteParts, shared?: SharedParts): RouteSpec {
  const s = parts.settings;
  const f = FALLBACK;
  const spec = {
    source: copySource(parts.source),
    routeName: parts.routeName,
    hosts: copyHosts(parts.from.hosts) as string[],
    fromScheme: parts.from.scheme,
    upstream: copyUpstream(parts.upstream),
    setHeaders: copyHeaders(parts.setHeaders) as Record<string, string>,
    removeHeaders: copyList(parts.removeHeaders) as string[],
    path: pick(s.path, f.path, shared),
    stripPath: pick(s.strip_path, f.strip_path, shared),
    policy:
      DEFAULT_POLICY !== undefined && s.allow == null && s.bypass == null && s.cors_preflight == null && s.deny == null && s.public == null
        ? DEFAULT_POLICY
        : sealGroup({
            allow: pick(s.allow, f.allow, shared),
            bypass: pick(s.bypass, f.bypass, shared),
            corsPreflight: pick(s.cors_preflight, f.cors_preflight, shared),
            deny: pick(s.deny, f.deny, shared),
            public: pick(s.public, f.public, shared),
          }),
    identity: pick(s.identity, f.identity, shared),
    hostHeader: pick(s.host, f.host, shared),
    websockets: pick(s.websockets, f.websockets, shared),
    wsOrigins: pick(s.ws_origins, f.ws_origins, shared),
    timeoutMs: pick(s.timeout, f.timeout, shared),
    idleTimeoutMs: pick(s.idle_timeout, f.idle_timeout, shared),
    tlsSkipVerify: pick(s.tls_skip_verify, f.tls_skip_verify, shared),
    health: pick(s.health, f.health, shared),
    lb: pick(s.lb, f.lb, shared),
    basicAuth: pick(s.basic_auth, f.basic_auth, shared),
    bearer: pick(s.bearer, f.bearer, shared),
    display: sealGroup({
      description: pick(s.description, f.description, shared),
      group: pick(s.group, f.group, shared),
      icon: pick(s.icon, f.icon, shared),
      name: pick(s.name, parts.defaultName, shared),
    }),
    access:
      DEFAULT_ACCESS !== undefined && s.max_age == null && s.mfa == null && s.networks == null && s.providers == null && s.trusted_networks == null
        ? DEFAULT_ACCESS
        : sealGroup({
            maxAgeMs: pick(s.max_age, f.max_age, shared),
            mfa: pick(s.mfa, f.mfa, shared),
            networks: pick(s.networks, f.networks, shared),
            providers: pick(s.providers, f.providers, shared),
            trustedNetworks: pick(s.trusted_networks, f.trusted_networks, shared),
          }),
    mode: pick(s.mode, f.mode, shared),
    oidc:
      DEFAULT_OIDC !== undefined && s['oidc.client_id'] == null && s['oidc.redirect_uris'] == null && s['oidc.client_secret'] == null
        ? DEFAULT_OIDC
        : sealGroup({
            clientId: pick(s['oidc.client_id'], f['oidc.client_id'], shared),
            redirectUris: pick(s['oidc.redirect_uris'], f['oidc.redirect_uris'], shared),
            secret: pick(s['oidc.client_secret'], f['oidc.client_secret'], shared),
          }),
    responseHeaders: pick(s.response_header, f.response_header, shared),
    hsts: pick(s.hsts, f.hsts, shared),
    redirect: pick(s.redirect, f.redirect, shared),
  } satisfies { [K in keyof RouteSpec]?: unknown };
  if (EXTRA_PLANS.length !== 0) {
    fillPlans(spec, EXTRA_PLANS, s, parts.defaultName, shared);
    // Filled now: frozen only here, so the fields above could be added to.
    const into = spec as unknown as Record<string, object>;
    for (const group of GROUPS) if (!Object.isFrozen(into[group])) Object.freeze(into[group]);
  }
  return spec as unknown as RouteSpec;
}

/** Fills the fields of these plans, as keyFields does. */
function fillPlans(fields: object, plans: readonly FieldPlan[], settings: Partial<RouteSettings>, defaultName: string, shared: SharedParts | undefined): void {
  for (const plan of plans) {
    const set = settings[plan.name];
    const value = set ?? (plan.name === 'name' ? defaultName : plan.fallback);
    const copy = set === undefined || set === null ? value : frozenCanonical(value, shared);
    const into = fields as Record<string, unknown>;
    if (plan.inner === null) into[plan.top] = copy;
    else ((into[plan.top] ??= {}) as Record<string, unknown>)[plan.inner] = copy;
  }
}
