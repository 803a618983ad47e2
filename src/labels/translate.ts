import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';
import { FORWARD_AUTH_UPSTREAM, type RouteIssue, type RouteSource, type RouteSpec, SharedParts, sharedCanonical, type TranslationResult, type UpstreamTarget, upstreamTarget } from '../routes/index.ts';
import { forbiddenClaimReason } from './claims.ts';
import { collectLabels, hasLabel, type Labelled, type RouteLabels, wantsRoutes } from './collect.ts';
import { deployerLabels } from './image-labels.ts';
import { DEFAULT_ROUTE } from './keys.ts';
import { keyDef, type ValueKey } from './key-table.ts';
import { buildRouteSpec } from './route-spec.ts';
import { chooseAddress, choosePort, chooseRemoteAddress, type NetworkContext, readiness, replicaGroup, type UpstreamLabels, upstreamOrigin } from './upstream.ts';
import type { RouteSettings } from './key-table.ts';
import { defaultFrom, hasPrefixedLabel, type DefaultDomain } from './default-host.ts';
import { parseClientId, redirectUriProblem } from './oidc-client.ts';
import { redirectUpstream } from './redirect.ts';

export interface TranslateOptions {
  /** Label prefix, `iap` by default; may contain dots (`com.example.iap`). */
  prefix: string;
  /** `GATEHOUSE_DOCKER_NETWORK`: preferred network when a container is on it. */
  dockerNetwork: string | undefined;
  /** The host of GATEHOUSE_AUTH_URL, lowercased, which no label may claim; null when sign-in is off. */
  signInHost?: string | null;
  /** GATEHOUSE_TRUST_IMAGE_LABELS: take labels equal to the image's as the deployer's (see image-labels.ts). */
  trustImageLabels?: boolean;
  /**
   * Why `secret:NAME` cannot be used by a header label (missing, unreadable, not a label secret),
   * or null when it can. Injected so labels/ stays pure; without it secret names are not checked
   * here (the request-time reader still refuses what it may not read).
   */
  checkSecret?: (name: string) => string | null;
  /** GATEHOUSE_DOMAIN: the host of containers that set no `from` (see default-host.ts); null or absent: none. */
  domain?: DefaultDomain | null;
}

/** What every route of one translation shares. */
interface Ctx {
  readonly prefix: string;
  readonly network: NetworkContext;
  readonly signInHost: string | null;
  readonly checkSecret: ((name: string) => string | null) | null;
  readonly domain: DefaultDomain | null;
  /** The labels an upstream problem of the top-level route names (`iap.port`, `iap.network`, `iap.to`). */
  readonly topUpstreamLabels: UpstreamLabels;
  /** Small list items (policy entries, bypass rules) equal among this translation's specs, each one frozen object. */
  readonly shared: SharedParts;
}

type Problem = Omit<RouteIssue, 'source'>;

/** Listing order: creation time, then id. */
function byCreation(a: ContainerSnapshot, b: ContainerSnapshot): number {
  return a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Containers → route claims. Only running containers that carry `<prefix>.from` (or
 * `<prefix>.<route>.from`) are read. Any problem on a container withholds all of its routes, so a
 * policy that did not parse can never leave a route open; every problem is reported at once.
 * Output is ordered by container creation time, id, then route name.
 *
 * Each container is translated on its own (from its snapshot, `selfNetworks` and the options)
 * and named as the source of every spec and issue it yields: the control loop relies on this
 * to translate again only the containers that changed.
 */
export function translateContainers(listing: DockerListing, options: TranslateOptions): TranslationResult {
  const ctx: Ctx = {
    prefix: options.prefix,
    network: { dockerNetwork: options.dockerNetwork, selfNetworks: listing.selfNetworks },
    signInHost: options.signInHost ?? null,
    checkSecret: options.checkSecret ?? null,
    domain: options.domain ?? null,
    topUpstreamLabels: { port: `${options.prefix}.port`, network: `${options.prefix}.network`, to: `${options.prefix}.to` },
    shared: new SharedParts(),
  };
  const trustImageLabels = options.trustImageLabels ?? false;
  const wanted = ctx.domain === null ? wantsRoutes : hasPrefixedLabel;
  // Engines list in creation order as a rule: sort only when this listing is not (the sort is stable, so skipping it changes nothing).
  const containers: ContainerSnapshot[] = [];
  let ordered = true;
  const listed = listing.containers;
  for (let i = 0; i < listed.length; i++) {
    const c = listed[i] as ContainerSnapshot;
    if (c.state !== 'running' || !wanted(c.labels, options.prefix)) continue;
    if (ordered && containers.length > 0 && byCreation(containers[containers.length - 1] as ContainerSnapshot, c) > 0) ordered = false;
    containers.push(c);
  }
  if (!ordered) containers.sort(byCreation);
  const result: TranslationResult = { specs: [], issues: [] };
  const problems: Problem[] = [];
  for (let i = 0; i < containers.length; i++) {
    const container = containers[i] as ContainerSnapshot;
    const firstSpec = result.specs.length;
    problems.length = 0;
    translateGuarded(container, ctx, trustImageLabels, result.specs, problems);
    if (problems.length === 0) continue;
    // Withheld: none of its routes, every distinct problem once.
    result.specs.length = firstSpec;
    const source = { kind: 'container' as const, containerId: container.id, containerName: container.name };
    const seen = problems.length === 1 ? null : new Set<string>();
    for (const problem of problems) {
      const message = `container "${container.name}": ${problem.message}`;
      if (seen !== null) {
        if (seen.has(message)) continue;
        seen.add(message);
      }
      result.issues.push({ ...problem, source, message });
    }
  }
  return result;
}

/** Adds the container's specs to `specs` and its problems to `problems` (the caller drops the specs when there are problems). */
function translateGuarded(container: ContainerSnapshot, ctx: Ctx, trustImageLabels: boolean, specs: RouteSpec[], problems: Problem[]): void {
  const firstSpec = specs.length;
  try {
    const own = deployerLabels(container, ctx.prefix, trustImageLabels);
    if (!own.ok) {
      problems.push({ code: 'invalid_value', label: null, value: null, message: own.message });
      return;
    }
    translateOne(container, own.labels, ctx, specs, problems);
  } catch {
    // Unreachable for well-formed snapshots; withholding one container beats taking the control loop down.
    specs.length = firstSpec;
    problems.length = 0;
    problems.push({ code: 'invalid_value', label: null, value: null, message: 'its labels could not be read' });
  }
}

function translateOne(container: ContainerSnapshot, labels: Readonly<Record<string, string>>, ctx: Ctx, specs: RouteSpec[], problems: Problem[]): void {
  const collected = collectLabels(labels, ctx.prefix, problems);
  const top = collected.top;
  if (top.values.enable === false) {
    problems.length = 0;
    return;
  }
  // Only the deployer's own labels ask for the default host: an image's labels speak for nobody.
  if (!hasLabel(top, 'from') && ctx.domain !== null && hasPrefixedLabel(labels, ctx.prefix)) {
    const implied = defaultFrom(container, ctx.domain);
    if (!implied.ok) {
      problems.push({ code: 'missing', label: `${ctx.prefix}.from`, value: null, message: `no ${ctx.prefix}.from, and ${implied.problem}` });
      return;
    }
    top.values.from = implied.from;
    top.labels.from = `${ctx.prefix}.from (from GATEHOUSE_DOMAIN)`;
  }
  const withTop = hasLabel(top, 'from');
  if (collected.named === null) {
    if (!withTop) return;
    const spec = buildContainerRoute(container, ctx, top, DEFAULT_ROUTE, null, problems);
    if (spec !== null) specs.push(spec);
    return;
  }
  // Route names are the keys of a map, so no two are equal.
  const routes: [string, RouteLabels | null][] = [...collected.named.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  if (withTop) routes.unshift([DEFAULT_ROUTE, null]);
  const built: RouteSpec[] = [];
  for (const [routeName, own] of routes) {
    const spec = buildContainerRoute(container, ctx, top, routeName, own, problems);
    if (spec !== null) built.push(spec);
  }
  built.sort((a, b) => (a.routeName < b.routeName ? -1 : a.routeName > b.routeName ? 1 : 0));
  for (const spec of built) specs.push(spec);
}

/** The label of a key on this route: `iap.port` for the top-level route, `iap.admin.port` for a named one. */
function keyLabel(prefix: string, routeName: string | null, key: ValueKey): string {
  return routeName === null ? `${prefix}.${key}` : `${prefix}.${routeName}.${key}`;
}

function buildContainerRoute(
  container: ContainerSnapshot,
  ctx: Ctx,
  top: RouteLabels,
  routeName: string,
  own: RouteLabels | null,
  problems: Problem[],
): RouteSpec | null {
  const prefix = ctx.prefix;
  // The top-level route reads its own labels as they are; a named one, what it inherits overlaid with its own.
  const route = own === null ? top : mergedRoute(own, top);
  const values = route.values;
  if (values.enable === false) return null;
  const named = own === null ? null : routeName;
  const contradiction = publicContradiction(route);
  if (contradiction !== null) {
    problems.push(contradiction);
    return null;
  }
  if (!hasLabel(route, 'from')) {
    const fromLabel = keyLabel(prefix, named, 'from');
    problems.push({ code: 'missing', label: fromLabel, value: null, message: `route "${routeName}" has no ${fromLabel} and there is no ${prefix}.from to inherit` });
    return null;
  }
  // A label that did not parse is already reported; inferring around it would only add noise.
  const from = values.from;
  if (from === undefined) return null;
  if (route.failed !== null) for (const key of route.failed) if (values[key] === undefined) return null;
  const fromLabel = route.labels.from as string;
  let refused = false;
  for (const host of from.hosts) {
    const reason = forbiddenClaimReason(host, ctx.signInHost);
    if (reason === null) continue;
    problems.push({ code: 'forbidden_host', label: fromLabel, value: host, message: `${fromLabel}: "${host}" ${reason}` });
    refused = true;
  }
  if (refused) return null;
  const headers = route.headers;
  if (headers !== null && uncheckedSecrets(headers, ctx, problems)) return null;
  if (values.mode === 'forward_auth') {
    const needless = UPSTREAM_KEYS.filter((key) => hasLabel(route, key));
    if (needless.length > 0) {
      const modeLabel = route.labels.mode ?? keyLabel(prefix, named, 'mode');
      const names = needless.map((key) => route.labels[key] ?? keyLabel(prefix, named, key)).join(', ');
      problems.push({ code: 'invalid_value', label: modeLabel, value: null, message: `${modeLabel}=forward_auth: the outer proxy reaches the app, so ${names} would never be used; remove ${needless.length === 1 ? 'it' : 'them'}` });
      return null;
    }
  }
  // The top-level route's own labels are the ones a problem names (its network label, when set, is `<prefix>.network` too).
  const upstreamLabels = named === null ? ctx.topUpstreamLabels : {
    port: keyLabel(prefix, named, 'port'),
    network: route.labels.network ?? `${prefix}.network`,
    to: keyLabel(prefix, named, 'to'),
  };
  const upstream = values.redirect != null ? redirectUpstream(container.id) : chooseUpstream(container, values, ctx.network, upstreamLabels, problems);
  if (upstream === null) return null;

  const client = own === null ? oidcClientSettings(container, route, from, ctx, problems) : NO_CLIENT;
  if (client === null) return null;

  // A named route does not inherit the display name as is: `Wiki` becomes `Wiki/admin`.
  const baseName = top.values.name ?? serviceName(container);
  const displayName = own === null ? baseName : (own.values.name ?? `${baseName}/${routeName}`);
  return buildRouteSpec(
    {
      source: containerSource(container),
      routeName,
      from,
      settings: { ...values, ...client, name: displayName },
      setHeaders: headers === null ? NO_HEADERS : Object.fromEntries([...headers.values()].map(({ value }) => [value.name, value.template])),
      removeHeaders: NO_REMOVED_HEADERS,
      upstream,
      defaultName: displayName,
    },
    ctx.shared,
  );
}

/** The container as a route's source, frozen and with its keys in the order the route table holds them (sorted), so the table takes it as it is. */
function containerSource(container: ContainerSnapshot): RouteSource {
  return Object.freeze({ containerId: container.id, containerName: container.name, created: container.created, group: replicaGroup(container), kind: 'container' as const });
}

/** How people know the app: its compose service (`wiki`), not the container name (`main_wiki_1`). */
function serviceName(container: ContainerSnapshot): string {
  const service = container.labels['com.docker.compose.service'];
  return service !== undefined && service !== '' ? service : container.name;
}

const NO_CLIENT: Partial<RouteSettings> = Object.freeze({});
// Every route without headers shares these: the route table's own frozen empty record and list
// (sharedCanonical gives those for `{}` and `[]`), which it takes without walking them.
const NO_HEADERS: Record<string, string> = sharedCanonical({});
const NO_REMOVED_HEADERS: string[] = sharedCanonical([]);

/**
 * The top-level route's OpenID client, checked: every redirect URI on one of this route's own
 * hosts, the client id defaulting to the compose service name, the secret readable. Null when a
 * problem withholds the container (recorded); NO_CLIENT when it declares none.
 */
function oidcClientSettings(
  container: ContainerSnapshot,
  route: RouteLabels,
  from: { hosts: string[]; scheme: 'http' | 'https' },
  ctx: Ctx,
  problems: Problem[],
): Partial<RouteSettings> | null {
  const { values, labels } = route;
  const uris = values['oidc.redirect_uris'];
  if (uris === undefined) {
    const other = values['oidc.client_id'] !== undefined ? labels['oidc.client_id'] : values['oidc.client_secret'] !== undefined ? labels['oidc.client_secret'] : undefined;
    if (other === undefined) return NO_CLIENT;
    problems.push({ code: 'missing', label: `${ctx.prefix}.oidc.redirect_uris`, value: null, message: `${other} needs ${ctx.prefix}.oidc.redirect_uris: the app's callback URLs` });
    return null;
  }
  const urisLabel = labels['oidc.redirect_uris'] as string;
  const refused: Problem[] = uris.flatMap((uri) => {
    const problem = redirectUriProblem(uri, from.hosts, from.scheme);
    return problem === null ? [] : [{ code: 'forbidden_host' as const, label: urisLabel, value: uri, message: `${urisLabel}: "${uri}": ${problem}` }];
  });
  const secretName = values['oidc.client_secret'] ?? null;
  const unreadable = secretName === null || ctx.checkSecret === null ? null : ctx.checkSecret(secretName);
  if (unreadable !== null) {
    const secretLabel = labels['oidc.client_secret'] as string;
    refused.push({ code: 'invalid_value', label: secretLabel, value: null, message: `${secretLabel}: secret:${secretName} ${unreadable}` });
  }
  const clientId = values['oidc.client_id'] ?? parseClientId(serviceName(container));
  if (typeof clientId !== 'string' && !clientId.ok) {
    refused.push({ code: 'missing', label: `${ctx.prefix}.oidc.client_id`, value: null, message: `set ${ctx.prefix}.oidc.client_id: the service name cannot be one (${clientId.problem})` });
  }
  if (refused.length > 0) {
    problems.push(...refused);
    return null;
  }
  return { 'oidc.client_id': typeof clientId === 'string' ? clientId : clientId.ok ? clientId.value : null };
}

/**
 * A named route's labels over what it takes from the top level: the keys the key table marks as
 * inherited. A named route that makes itself public takes no access rule from the top level
 * either: they would never apply, and they were written for the other routes.
 */
function mergedRoute(own: RouteLabels, top: RouteLabels): RouteLabels {
  const ownPublic = own.values.public === true;
  const keep = (key: ValueKey) => keyDef(key).inherit && !(ownPublic && ACCESS_KEYS.includes(key));
  const values: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  for (const key of Object.keys(top.values) as ValueKey[]) {
    if (!keep(key)) continue;
    values[key] = top.values[key];
    labels[key] = top.labels[key] as string;
  }
  const failed = [...(top.failed ?? []).filter(keep), ...(own.failed ?? [])];
  return {
    values: Object.assign(values, own.values) as RouteLabels['values'],
    labels: Object.assign(labels, own.labels),
    failed: failed.length === 0 ? null : failed,
    headers: top.headers === null && own.headers === null ? null : new Map([...(top.headers ?? []), ...(own.headers ?? [])]),
  };
}

/** A header whose `secret:NAME` cannot be read rejects its route, naming the label and why; true when one did. */
function uncheckedSecrets(headers: Map<string, Labelled<{ name: string; template: string }>>, ctx: Ctx, problems: Problem[]): boolean {
  if (ctx.checkSecret === null) return false;
  let found = false;
  for (const { value, label } of headers.values()) {
    if (!value.template.startsWith('secret:')) continue;
    const reason = ctx.checkSecret(value.template.slice('secret:'.length));
    if (reason === null) continue;
    problems.push({ code: 'invalid_value', label, value: null, message: `${label}: ${value.template} ${reason}` });
    found = true;
  }
  return found;
}

/** Keys that say how Gatehouse reaches the app, which a forward_auth route never does. */
const UPSTREAM_KEYS: readonly ValueKey[] = ['port', 'scheme', 'to', 'network', 'tls_skip_verify'];

/** Keys that restrict who gets in, which a public route would silently ignore. */
const ACCESS_KEYS: readonly ValueKey[] = ['allow', 'deny', 'bypass'];

/** `public` with `allow`, `deny` or `bypass` on one route: refused, as Pomerium does, naming both labels. */
function publicContradiction(route: RouteLabels): Problem | null {
  if (route.values.public !== true) return null;
  const other = ACCESS_KEYS.find((key) => route.values[key] !== undefined);
  if (other === undefined) return null;
  const pub = route.labels.public as string;
  const otherLabel = route.labels[other] as string;
  return {
    code: 'invalid_value',
    label: pub,
    value: null,
    message: `${pub}=true and ${otherLabel} contradict each other: a public route lets everyone in without sign-in, so ${otherLabel} would never apply; remove ${pub} to require sign-in, or remove ${otherLabel}`,
  };
}

function chooseUpstream(
  container: ContainerSnapshot,
  settings: Partial<RouteSettings>,
  context: NetworkContext,
  labels: { port: string; network: string; to: string },
  problems: Problem[],
): UpstreamTarget | null {
  // The outer proxy reaches the app; Gatehouse only decides, so no network or port is needed.
  if (settings.mode === 'forward_auth') return upstreamTarget(FORWARD_AUTH_UPSTREAM, container.id, true, 'forward_auth');
  const state = readiness(container, settings.health ?? 'docker');
  if (settings.to !== undefined) return upstreamTarget(settings.to, container.id, state.ready, state.state);
  if (container.remote !== undefined) return remoteUpstream(container, container.remote, settings, labels, problems, state);
  const address = chooseAddress(container, settings.network, context, labels);
  const port = choosePort(container, settings.port, labels);
  if (!address.ok) problems.push(address.problem);
  if (!port.ok) problems.push(port.problem);
  if (!address.ok || !port.ok) return null;
  return upstreamTarget(upstreamOrigin(settings.scheme ?? 'http', address.value.ip, port.value), container.id, state.ready, state.state, address.value.network);
}

/** A container on another machine (GATEHOUSE_DOCKER_HOSTS): on a shared overlay network, else at its published port there. */
function remoteUpstream(
  container: ContainerSnapshot,
  remote: NonNullable<ContainerSnapshot['remote']>,
  settings: Partial<RouteSettings>,
  labels: { port: string; network: string; to: string },
  problems: Problem[],
  state: Pick<UpstreamTarget, 'ready' | 'state'>,
): UpstreamTarget | null {
  const port = choosePort(container, settings.port, labels);
  if (!port.ok) {
    problems.push(port.problem);
    return null;
  }
  const address = chooseRemoteAddress(container, remote, port.value, settings.network, labels);
  if (!address.ok) {
    problems.push(address.problem);
    return null;
  }
  const { host, port: target, network } = address.value;
  return upstreamTarget(upstreamOrigin(settings.scheme ?? 'http', host, target), container.id, state.ready, state.state, network);
}
