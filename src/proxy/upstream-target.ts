import type { Route } from '../routes/index.ts';

/** Where a forwarded request goes on the upstream: its path and its `Host`. */

/** The path the upstream sees: the matched one, minus the route prefix when strip_path is on. */
export function upstreamPath(route: Route, path: string): string {
  if (!route.stripPath || route.path === '/') return path;
  const rest = path.slice(route.path.length);
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

/** The `Host` the upstream sees, per the route's host_header mode. */
export function upstreamHost(route: Route, origin: string, clientHost: string): string {
  switch (route.hostHeader.mode) {
    case 'preserve':
      return clientHost;
    case 'upstream':
      return new URL(origin).host;
    case 'literal':
      return route.hostHeader.host;
  }
}
