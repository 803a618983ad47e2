import type { IncomingHttpHeaders } from 'node:http';
import { regexSubstitute, type Route } from '../routes/index.ts';

/** Where a forwarded request goes on the upstream: its path and its `Host`. */

/**
 * The path the upstream sees: the matched one, minus the route prefix when strip_path is on.
 * A route from a Pomerium file rewrites as Pomerium (Envoy) does: `regex_rewrite_*` replaces
 * every match in the path; `prefix_rewrite` swaps the matched prefix (or exact path) for its value.
 */
export function upstreamPath(route: Route, path: string): string {
  const pomerium = route.pomerium;
  if (pomerium !== undefined) {
    let rewritten = path;
    if (pomerium.regexRewrite !== null) rewritten = regexSubstitute(pomerium.regexRewrite, path);
    else if (pomerium.prefixRewrite !== null) rewritten = pomerium.prefixRewrite + path.slice(route.path.length);
    return rewritten.charCodeAt(0) === 0x2f ? rewritten : `/${rewritten}`;
  }
  if (!route.stripPath || route.path === '/') return path;
  const rest = path.slice(route.path.length);
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

/** What the Host rewrites of a Pomerium route read from the request. */
export interface HostSource {
  readonly path: string;
  readonly headers: Readonly<IncomingHttpHeaders>;
}

/** The `Host` the upstream sees, per the route's host_header mode (and Pomerium's Host rewrites). */
export function upstreamHost(route: Route, origin: string, clientHost: string, request?: HostSource): string {
  const pomerium = route.pomerium;
  if (pomerium !== undefined && request !== undefined) {
    if (pomerium.hostRewriteHeader !== null) {
      const value = request.headers[pomerium.hostRewriteHeader];
      const text = Array.isArray(value) ? value[0] : value;
      // Pomerium falls back to the upstream's own host when the header is absent.
      if (text !== undefined && isHostText(text)) return text;
    } else if (pomerium.hostPathRewrite !== null) {
      const host = regexSubstitute(pomerium.hostPathRewrite, request.path);
      if (isHostText(host)) return host;
    }
  }
  switch (route.hostHeader.mode) {
    case 'preserve':
      return clientHost;
    case 'upstream':
      return new URL(origin).host;
    case 'literal':
      return route.hostHeader.host;
  }
}

/** A host[:port] with nothing a header could be smuggled through. */
function isHostText(text: string): boolean {
  return /^[A-Za-z0-9.\-_[\]:]{1,253}$/.test(text);
}
