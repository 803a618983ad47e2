import type { IncomingHttpHeaders } from 'node:http';
import {
  CLIENT_IP_HEADERS,
  HEADER_NAME,
  HOP_BY_HOP,
  IDENTITY_PREFIX,
  connectionTokens,
  foldHeaderName,
  isClientAddressHeader,
  sanitizeHeaderValue,
  setsGatehouseCookie,
} from '../http/index.ts';

/**
 * Header hygiene between the client and an upstream. The order is the point: everything the
 * client sent is filtered first (hop-by-hop, names listed in `Connection`, identity aliases,
 * forwarding headers from untrusted peers), and only then does Gatehouse add its own, so no
 * client header can remove or shadow a header Gatehouse sets.
 */

/**
 * Dropped from requests as well: Node answers `Expect: 100-continue` itself, `Proxy` is the
 * httpoxy vector, and the URL-override headers let a client make an upstream serve a path other
 * than the one Gatehouse matched and authorised.
 */
const REQUEST_ONLY_DROP = new Set(['expect', 'proxy', 'x-original-url', 'x-rewrite-url', 'x-original-uri']);

/** What a trusted proxy may tell us about the hop before it; canonical spelling only. */
const TRUSTED_FORWARDING = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-ssl',
]);

/**
 * Client-address headers a trusted proxy may pass on, in canonical spelling: its own
 * forwarding headers, and the ones a CDN in front of it sets (`CF-Connecting-IP`, …).
 */
function trustedClientAddress(name: string): boolean {
  return TRUSTED_FORWARDING.has(name) || CLIENT_IP_HEADERS.has(name);
}

/**
 * Pomerium's identity headers (`X-Pomerium-Jwt-Assertion`, `X-Pomerium-Claim-*`). Stripped from
 * every client request on every route, label routes included, exactly like `X-Iap-*`: an app
 * moved from Pomerium may still trust them, and only Gatehouse may ever set them.
 */
const POMERIUM_PREFIX = 'x-pomerium-';

/** Framing must survive a hostile `Connection:` list: the body was already read by its length. */
const NOT_NOMINATABLE = new Set(['content-length']);

export interface ForwardingFacts {
  /** The socket peer is in GATEHOUSE_TRUSTED_PROXIES. */
  readonly peerTrusted: boolean;
  readonly peerIp: string;
  readonly clientIp: string;
  /** The scheme the user sees. */
  readonly scheme: 'http' | 'https';
  /** `Host` as the client sent it, port included. */
  readonly hostHeader: string;
}

export interface UpstreamHeaderOptions {
  readonly forwarding: ForwardingFacts;
  /** The `Host` to send upstream. */
  readonly host: string;
  /**
   * Folded names to strip from client input (see `routeStripNames`): the route's
   * `remove_request_headers` and every name the route sets.
   */
  readonly strip: ReadonlySet<string>;
  /** Set last; overwrite anything of the same name. */
  readonly setHeaders: Readonly<Record<string, string>>;
  /** Extra names the gate wants gone (e.g. its own cookie); compared folded. */
  readonly gateRemoveHeaders?: readonly string[];
  /** A websocket handshake: keep `Upgrade: websocket` / `Connection: Upgrade`. */
  readonly upgrade: boolean;
}

export function buildUpstreamHeaders(client: IncomingHttpHeaders, options: UpstreamHeaderOptions): Record<string, string> {
  const nominated = connectionTokens(client.connection);
  const removed = options.gateRemoveHeaders?.length ? foldedSet(options.gateRemoveHeaders, [...options.strip]) : options.strip;
  const trusted = options.forwarding.peerTrusted;
  const out: Record<string, string> = {};

  for (const name in client) {
    const value = client[name];
    // `:authority`, `:path`, …: HTTP/2 pseudo-headers describe this hop's request, not the upstream's.
    if (value === undefined || name === 'host' || name.charCodeAt(0) === 0x3a) continue;
    if (HOP_BY_HOP.has(name) || REQUEST_ONLY_DROP.has(name)) continue;
    if (nominated.has(name) && !NOT_NOMINATABLE.has(name)) continue;
    const folded = foldHeaderName(name);
    if (folded.startsWith(IDENTITY_PREFIX) || folded.startsWith(POMERIUM_PREFIX) || removed.has(folded)) continue;
    // An alias spelling (`X_Client_IP`, `x.forwarded.for`) is never a proxy's header: always dropped.
    if (folded !== name && (REQUEST_ONLY_DROP.has(folded) || isClientAddressHeader(folded))) continue;
    if (isClientAddressHeader(name) && !(trusted && trustedClientAddress(name))) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }

  addForwarding(out, options.forwarding);
  out.host = options.host;
  if (options.upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = 'websocket';
  }
  for (const name in options.setHeaders) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(lower) || HOP_BY_HOP.has(lower)) continue;
    out[lower] = sanitizeHeaderValue(options.setHeaders[name] as string);
  }
  return out;
}

function addForwarding(out: Record<string, string>, facts: ForwardingFacts): void {
  const prior = facts.peerTrusted ? out['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] = prior ? `${prior}, ${facts.peerIp}` : facts.peerIp;
  out['x-forwarded-proto'] = facts.scheme;
  if (!(facts.peerTrusted && out['x-forwarded-host'])) out['x-forwarded-host'] = facts.hostHeader;
  if (!(facts.peerTrusted && out['x-forwarded-port'])) out['x-forwarded-port'] = portOf(facts.hostHeader, facts.scheme);
  out['x-real-ip'] = facts.clientIp;
}

function portOf(hostHeader: string, scheme: 'http' | 'https'): string {
  const m = /:(\d{1,5})$/.exec(hostHeader);
  return m ? (m[1] as string) : scheme === 'https' ? '443' : '80';
}

function foldedSet(...lists: readonly (readonly string[])[]): Set<string> {
  const set = new Set<string>();
  for (const list of lists) for (const name of list) set.add(foldHeaderName(name));
  return set;
}

const stripNamesByRoute = new WeakMap<object, ReadonlySet<string>>();

/**
 * What a route strips from client input, folded so aliases go too: its `remove_request_headers`
 * and every header it sets (`header.<Name>`, a Pomerium route's `jwt_claims_headers`), the latter
 * whether or not a value is sent this time (a request without a user gets none), so a client can
 * never supply one. Cached per (frozen) route.
 */
export function routeStripNames(route: {
  readonly removeHeaders: readonly string[];
  readonly setHeaders: Readonly<Record<string, string>>;
  readonly pomerium?: { readonly claimHeaders: Readonly<Record<string, string>> };
}): ReadonlySet<string> {
  let names = stripNamesByRoute.get(route);
  if (names === undefined) {
    names = foldedSet(route.removeHeaders, Object.keys(route.setHeaders), Object.keys(route.pomerium?.claimHeaders ?? {}));
    stripNamesByRoute.set(route, names);
  }
  return names;
}

/**
 * Upstream response headers minus hop-by-hop ones, whatever the upstream named in `Connection`,
 * and any `Set-Cookie` for one of Gatehouse's own cookie names: an app that could set
 * `gatehouse_session` (or its `__Host-` form) would plant its chosen session in the browser
 * beside the real one, which is session fixation.
 */
export function cleanResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const nominated = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || nominated.has(name)) continue;
    if (name === 'set-cookie') {
      const kept = withoutGatehouseCookies(value);
      if (kept !== undefined) out[name] = kept;
      continue;
    }
    out[name] = value;
  }
  return out;
}

export function withoutGatehouseCookies(value: string | string[]): string | string[] | undefined {
  if (!Array.isArray(value)) return setsGatehouseCookie(value) ? undefined : value;
  const kept = value.filter((item) => !setsGatehouseCookie(item));
  return kept.length === 0 ? undefined : kept;
}
