import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';
import { FORWARD_AUTH_UPSTREAM, type RouteIssue, type RouteSpec, type TranslationResult, type UpstreamTarget } from '../routes/index.ts';
import { forbiddenClaimReason } from './claims.ts';
import { collectLabels, type Labelled, type RouteLabels, wantsRoutes } from './collect.ts';
import { deployerLabels } from './image-labels.ts';
import { DEFAULT_ROUTE } from './keys.ts';
import { keyDef, type ValueKey } from './key-table.ts';
import { buildRouteSpec } from './route-spec.ts';
import { chooseAddress, choosePort, chooseRemoteAddress, type NetworkContext, readiness, replicaGroup, upstreamOrigin } from './upstream.ts';
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
}

type Problem = Omit<RouteIssue, 'source'>;

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
  };
  const wanted = ctx.domain === null ? wantsRoutes : hasPrefixedLabel;
  const containers = listing.containers
    .filter((c) => c.state === 'running' && wanted(c.labels, options.prefix))
    .sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const result: TranslationResult = { specs: [], issues: [] };
  for (const container of containers) {
    const source = { kind: 'container' as const, containerId: container.id, containerName: container.name };
    const { specs, problems } = translateGuarded(container, ctx, options.trustImageLabels ?? false);
    if (problems.length === 0) {
      result.specs.push(...specs);
      continue;
    }
    const seen = new Set<string>();
    for (const problem of problems) {
      const message = `container "${container.name}": ${problem.message}`;
      if (seen.has(message)) continue;
      seen.add(message);
      result.issues.push({ ...problem, source, message });
    }
  }
  return result;
}

function translateGuarded(container: ContainerSnapshot, ctx: Ctx, trustImageLabels: boolean): { specs: RouteSpec[]; problems: Problem[] } {
  try {
    const own = deployerLabels(container, ctx.prefix, trustImageLabels);
    if (!own.ok) return { specs: [], problems: [{ code: 'invalid_value', label: null, value: null, message: own.message }] };
    return translateOne(container, own.labels, ctx);
  } catch {
    // Unreachable for well-formed snapshots; withholding one container beats taking the control loop down.
    return { specs: [], problems: [{ code: 'invalid_value', label: null, value: null, message: 'its labels could not be read' }] };
  }
}

function translateOne(container: ContainerSnapshot, labels: Readonly<Record<string, string>>, ctx: Ctx): { specs: RouteSpec[]; problems: Problem[] } {
  const collected = collectLabels(labels, ctx.prefix);
  if (collected.top.values.enable?.value === false) return { specs: [], problems: [] };
  const problems: Problem[] = [...collected.problems];
  const specs: RouteSpec[] = [];
  const routes: [string, RouteLabels | null][] = [...collected.named.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  // Only the deployer's own labels ask for the default host: an image's labels speak for nobody.
  if (!collected.top.present.has('from') && ctx.domain !== null && hasPrefixedLabel(labels, ctx.prefix)) {
    const implied = defaultFrom(container, ctx.domain);
    if (!implied.ok) return { specs: [], problems: [...problems, { code: 'missing', label: `${ctx.prefix}.from`, value: null, message: `no ${ctx.prefix}.from, and ${implied.problem}` }] };
    collected.top.values.from = { value: implied.from, label: `${ctx.prefix}.from (from GATEHOUSE_DOMAIN)` };
    collected.top.present.add('from');
  }
  if (collected.top.present.has('from')) routes.unshift([DEFAULT_ROUTE, null]);
  for (const [routeName, own] of routes) {
    const spec = buildContainerRoute(container, ctx, collected.top, routeName, own, problems);
    if (spec !== null) specs.push(spec);
  }
  specs.sort((a, b) => (a.routeName < b.routeName ? -1 : a.routeName > b.routeName ? 1 : 0));
  return { specs, problems };
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
  const inherited = own === null ? top : inheritedBy(own, top);
  const values = own === null ? { ...inherited.values } : { ...inherited.values, ...own.values };
  const settings: Partial<RouteSettings> = {};
  for (const key in values) (settings as Record<string, unknown>)[key] = (values as Record<string, { value: unknown }>)[key]?.value;
  if (settings.enable === false) return null;
  const label = (key: ValueKey) => (own === null ? `${prefix}.${key}` : `${prefix}.${routeName}.${key}`);
  // Read only from here on, so the top-level route reads its own set rather than a copy.
  const present: ReadonlySet<ValueKey> = own === null ? inherited.present : new Set([...inherited.present, ...own.present]);
  const contradiction = publicContradiction(values);
  if (contradiction !== null) {
    problems.push(contradiction);
    return null;
  }
  if (!present.has('from')) {
    problems.push({ code: 'missing', label: label('from'), value: null, message: `route "${routeName}" has no ${label('from')} and there is no ${prefix}.from to inherit` });
    return null;
  }
  // A label that did not parse is already reported; inferring around it would only add noise.
  const from = values.from;
  if (from === undefined) return null;
  for (const key of present) if (settings[key] === undefined) return null;
  const refused = from.value.hosts.flatMap((host) => {
    const reason = forbiddenClaimReason(host, ctx.signInHost);
    return reason === null ? [] : [{ code: 'forbidden_host' as const, label: from.label, value: host, message: `${from.label}: "${host}" ${reason}` }];
  });
  if (refused.length > 0) {
    problems.push(...refused);
    return null;
  }
  const headers = own === null ? top.headers : new Map([...top.headers, ...own.headers]);
  const secretProblems = uncheckedSecrets(headers, ctx);
  if (secretProblems.length > 0) {
    problems.push(...secretProblems);
    return null;
  }
  const needless = settings.mode === 'forward_auth' ? UPSTREAM_KEYS.filter((key) => present.has(key)) : [];
  if (needless.length > 0) {
    const names = needless.map((key) => values[key]?.label ?? label(key)).join(', ');
    problems.push({ code: 'invalid_value', label: values.mode?.label ?? label('mode'), value: null, message: `${values.mode?.label ?? label('mode')}=forward_auth: the outer proxy reaches the app, so ${names} would never be used; remove ${needless.length === 1 ? 'it' : 'them'}` });
    return null;
  }
  const upstream = settings.redirect != null ? redirectUpstream(container.id) : chooseUpstream(container, settings, ctx.network, {
    port: label('port'),
    network: values.network?.label ?? `${prefix}.network`,
    to: label('to'),
  }, problems);
  if (upstream === null) return null;

  const client = own === null ? oidcClientSettings(container, settings, values, from.value, ctx, problems) : {};
  if (client === null) return null;

  // A named route does not inherit the display name as is: `Wiki` becomes `Wiki/admin`.
  const baseName = top.values.name?.value ?? serviceName(container);
  const displayName = own === null ? baseName : (own.values.name?.value ?? `${baseName}/${routeName}`);
  return buildRouteSpec({
    source: { kind: 'container', containerId: container.id, containerName: container.name, group: replicaGroup(container), created: container.created },
    routeName,
    from: from.value,
    settings: { ...settings, ...client, name: displayName },
    setHeaders: Object.fromEntries([...headers.values()].map(({ value }) => [value.name, value.template])),
    removeHeaders: [],
    upstream,
    defaultName: displayName,
  });
}

/** How people know the app: its compose service (`wiki`), not the container name (`main_wiki_1`). */
function serviceName(container: ContainerSnapshot): string {
  const service = container.labels['com.docker.compose.service'];
  return service !== undefined && service !== '' ? service : container.name;
}

/**
 * The top-level route's OpenID client, checked: every redirect URI on one of this route's own
 * hosts, the client id defaulting to the compose service name, the secret readable. Null when a
 * problem withholds the container (recorded); `{}` when it declares no client.
 */
function oidcClientSettings(
  container: ContainerSnapshot,
  settings: Partial<RouteSettings>,
  values: RouteLabels['values'],
  from: { hosts: string[]; scheme: 'http' | 'https' },
  ctx: Ctx,
  problems: Problem[],
): Partial<RouteSettings> | null {
  const uris = values['oidc.redirect_uris'];
  const other = values['oidc.client_id'] ?? values['oidc.client_secret'];
  if (uris === undefined) {
    if (other === undefined) return {};
    problems.push({ code: 'missing', label: `${ctx.prefix}.oidc.redirect_uris`, value: null, message: `${other.label} needs ${ctx.prefix}.oidc.redirect_uris: the app's callback URLs` });
    return null;
  }
  const refused: Problem[] = uris.value.flatMap((uri) => {
    const problem = redirectUriProblem(uri, from.hosts, from.scheme);
    return problem === null ? [] : [{ code: 'forbidden_host' as const, label: uris.label, value: uri, message: `${uris.label}: "${uri}": ${problem}` }];
  });
  const secret = values['oidc.client_secret'];
  const secretName = secret?.value ?? null;
  const unreadable = secret === undefined || secretName === null || ctx.checkSecret === null ? null : ctx.checkSecret(secretName);
  if (unreadable !== null) refused.push({ code: 'invalid_value', label: secret!.label, value: null, message: `${secret!.label}: secret:${secretName} ${unreadable}` });
  const clientId = settings['oidc.client_id'] ?? parseClientId(serviceName(container));
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
 * What a named route takes from the top level: the keys the key table marks as inherited. A
 * named route that makes itself public takes no access rule from the top level either: they
 * would never apply, and they were written for the other routes.
 */
function inheritedBy(own: RouteLabels, top: RouteLabels): Pick<RouteLabels, 'values' | 'present'> {
  const ownPublic = own.values.public?.value === true;
  const keep = (key: ValueKey) => keyDef(key).inherit && !(ownPublic && ACCESS_KEYS.includes(key));
  const values = Object.fromEntries(Object.entries(top.values).filter(([key]) => keep(key as ValueKey))) as RouteLabels['values'];
  return { values, present: new Set([...top.present].filter(keep)) };
}

/** A header whose `secret:NAME` cannot be read rejects its route, naming the label and why. */
function uncheckedSecrets(headers: Map<string, Labelled<{ name: string; template: string }>>, ctx: Ctx): Problem[] {
  if (ctx.checkSecret === null) return [];
  const found: Problem[] = [];
  for (const { value, label } of headers.values()) {
    if (!value.template.startsWith('secret:')) continue;
    const reason = ctx.checkSecret(value.template.slice('secret:'.length));
    if (reason !== null) found.push({ code: 'invalid_value', label, value: null, message: `${label}: ${value.template} ${reason}` });
  }
  return found;
}

/** Keys that say how Gatehouse reaches the app, which a forward_auth route never does. */
const UPSTREAM_KEYS: readonly ValueKey[] = ['port', 'scheme', 'to', 'network', 'tls_skip_verify'];

/** Keys that restrict who gets in, which a public route would silently ignore. */
const ACCESS_KEYS: readonly ValueKey[] = ['allow', 'deny', 'bypass'];

/** `public` with `allow`, `deny` or `bypass` on one route: refused, as Pomerium does, naming both labels. */
function publicContradiction(values: RouteLabels['values']): Problem | null {
  const pub = values.public;
  if (pub === undefined || pub.value !== true) return null;
  const other = ACCESS_KEYS.map((key) => values[key]).find((entry) => entry !== undefined);
  if (other === undefined) return null;
  return {
    code: 'invalid_value',
    label: pub.label,
    value: null,
    message: `${pub.label}=true and ${other.label} contradict each other: a public route lets everyone in without sign-in, so ${other.label} would never apply; remove ${pub.label} to require sign-in, or remove ${other.label}`,
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
  if (settings.mode === 'forward_auth') return { origin: FORWARD_AUTH_UPSTREAM, containerId: container.id, ready: true, state: 'forward_auth' };
  const state = readiness(container, settings.health ?? 'docker');
  if (settings.to !== undefined) return { origin: settings.to, containerId: container.id, ...state };
  if (container.remote !== undefined) return remoteUpstream(container, container.remote, settings, labels, problems, state);
  const address = chooseAddress(container, settings.network, context, labels);
  const port = choosePort(container, settings.port, labels);
  if (!address.ok) problems.push(address.problem);
  if (!port.ok) problems.push(port.problem);
  if (!address.ok || !port.ok) return null;
  return { origin: upstreamOrigin(settings.scheme ?? 'http', address.value.ip, port.value), containerId: container.id, ...state, network: address.value.network };
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
  return { origin: upstreamOrigin(settings.scheme ?? 'http', host, target), containerId: container.id, ...state, ...(network === undefined ? {} : { network }) };
}
